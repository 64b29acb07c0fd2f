// Writes hessian2 test vectors with Caucho Hessian (Debian libhessian-java 4.0.38), one file per case, into
// the directory given as the first argument. The Rust tests in dubbo-codec/src/hessian2/tests/
// decode these files and assert the values; see testdata/README.md there for how to regenerate them.
package vectors;

import com.caucho.hessian.io.Hessian2Output;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.TreeMap;

public class HessianVectors {
    private static Path dir;

    public static void main(String[] args) throws Exception {
        dir = Path.of(args[0]);
        write("ints", 0, -16, 47, -17, 48, -2048, 2047, -2049, 2048, -262144, 262143, -262145, 262144,
                Integer.MIN_VALUE, Integer.MAX_VALUE);
        write("longs", 0L, -8L, 15L, -9L, 16L, -2048L, 2047L, -2049L, 2048L, -262144L, 262143L, -262145L, 262144L,
                (long) Integer.MIN_VALUE, (long) Integer.MAX_VALUE, Integer.MAX_VALUE + 1L, Long.MIN_VALUE,
                Long.MAX_VALUE);
        write("doubles", 0.0, 1.0, -128.0, 127.0, -129.0, 128.0, -32768.0, 32767.0, 32768.0, 12.25, 0.001, -2.5,
                3.14159265358979, 1e300, -0.0, 2147483.647, 2147483.648, Double.NaN, Double.NEGATIVE_INFINITY);
        write("dates", new Date(0L), new Date(1700000000123L), new Date(1699999980000L), new Date(-60000L));
        StringBuilder mixed = new StringBuilder();
        for (int i = 0; i < 40000; i++) {
            mixed.append(i % 1000 == 999 ? "\uD83D\uDE00" : i % 3 == 0 ? "\u00e9" : i % 3 == 1 ? "\u4e2d" : "z");
        }
        write("strings", "", "a", "a".repeat(31), "b".repeat(32), "c".repeat(1023), "d".repeat(1024),
                "h\u00e9llo w\u00f6rld", "\u4e2d\u6587", "\uD83D\uDE00", "a\uD83D\uDE00b", "e".repeat(0x8000),
                "f".repeat(0x8001), "a".repeat(0x7fff) + "\uD83D\uDE00b", mixed.toString());
        write("binary", bytes(0), bytes(15), bytes(16), bytes(1023), bytes(1024), bytes(0x8000), bytes(0x8001));
        write("arrays", new int[] {1, 2, 3}, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, new short[] {1, -1},
                new float[] {1.5f, 2.25f}, new long[] {5L}, new double[] {0.5}, new boolean[] {true, false},
                new String[] {"a", "b"}, new Object[] {1, "x"});
        TreeMap<String, Integer> tree = new TreeMap<>();
        tree.put("x", 1);
        tree.put("y", 2);
        HashMap<String, Integer> hash = new HashMap<>();
        hash.put("a", 1);
        write("collections", new ArrayList<>(Arrays.asList(1, "two", 3L)), hash, tree, new ArrayList<>(),
                new LinkedList<>(Arrays.asList("p", "q")));
        Address home = new Address("Paris", 75001L);
        Person ann = new Person("Ann", 30, home);
        Person bob = new Person("Bob", 40, home);
        write("pojos", ann, bob, new ArrayList<>(Arrays.asList(new Person("Cy", 5, null), new Person("Di", 6, null))));
        write("enums", Color.RED, Color.GREEN, Color.RED);
        RuntimeException boom = new RuntimeException("boom");
        boom.setStackTrace(new StackTraceElement[] {new StackTraceElement("com.example.Svc", "call", "Svc.java", 42)});
        write("exception", boom);
        ArrayList<Object> shared = new ArrayList<>(Arrays.asList("s"));
        ArrayList<Object> twice = new ArrayList<>(Arrays.asList(shared, shared));
        ArrayList<Object> self = new ArrayList<>();
        self.add("head");
        self.add(self);
        write("refs", twice, self, shared);
        write("many_classes", new K0(), new K1(), new K2(), new K3(), new K4(), new K5(), new K6(), new K7(), new K8(),
                new K9(), new K10(), new K11(), new K12(), new K13(), new K14(), new K15(), new K16(), new K16());
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    private static void write(String name, Object... values) throws IOException {
        try (OutputStream file = new FileOutputStream(dir.resolve(name + ".bin").toFile())) {
            Hessian2Output out = new Hessian2Output(file);
            for (Object value : values) {
                out.writeObject(value);
            }
            out.flush();
        }
    }
}

enum Color { RED, GREEN }

class Address implements Serializable {
    String city;
    long zip;

    Address(String city, long zip) {
        this.city = city;
        this.zip = zip;
    }
}

class Person implements Serializable {
    String name;
    int age;
    Address address;

    Person(String name, int age, Address address) {
        this.name = name;
        this.age = age;
        this.address = address;
    }
}

class K0 implements Serializable { int v = 0; }
class K1 implements Serializable { int v = 1; }
class K2 implements Serializable { int v = 2; }
class K3 implements Serializable { int v = 3; }
class K4 implements Serializable { int v = 4; }
class K5 implements Serializable { int v = 5; }
class K6 implements Serializable { int v = 6; }
class K7 implements Serializable { int v = 7; }
class K8 implements Serializable { int v = 8; }
class K9 implements Serializable { int v = 9; }
class K10 implements Serializable { int v = 10; }
class K11 implements Serializable { int v = 11; }
class K12 implements Serializable { int v = 12; }
class K13 implements Serializable { int v = 13; }
class K14 implements Serializable { int v = 14; }
class K15 implements Serializable { int v = 15; }
class K16 implements Serializable { int v = 16; }
