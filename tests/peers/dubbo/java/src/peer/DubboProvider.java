package peer;

import com.alibaba.dubbo.rpc.service.GenericException;
import com.caucho.hessian.io.Hessian2Input;
import com.caucho.hessian.io.Hessian2Output;
import com.caucho.hessian.io.SerializerFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.apache.dubbo.demo.UserService;
import org.apache.dubbo.demo.UserServiceImpl;

/**
 * A Dubbo2 (dubbo:// over TCP, hessian2) provider of org.apache.dubbo.demo.UserService:1.0.0 built on
 * Debian's Caucho Hessian (libhessian-java 4.0.38), framing and answering the way Java Dubbo 2.7 does:
 *
 * <ul>
 *   <li>16-byte header: magic 0xdabb, flag (0x80 request, 0x40 two-way, 0x20 event, low 5 bits the
 *       serialization id, 2 = hessian2), status, 8-byte request id, 4-byte body length.
 *   <li>Request body: dubbo version, path, version, method, parameter-types descriptor, the arguments
 *       (read as the descriptor's types), attachments (a map; its path/version/group win over the body's).
 *   <li>Response body when status is 20: an int flag, then the value / exception, then attachments. Like Java
 *       Dubbo, attachments (flags 3/4/5) are sent only to callers whose dubbo version is a protocol version
 *       2.0.2..2.0.99 (Version.isSupportResponseAttachment); others get flags 0/1/2.
 *   <li>A business exception is status 20 + flag 0/3 + the serialized Throwable (cause pointing to itself);
 *       for generic calls it is wrapped in com.alibaba.dubbo.rpc.service.GenericException.
 *   <li>Unknown service or method: status 70 with the error as text; an undecodable request: status 40.
 *   <li>Heartbeats (event requests with a null body) are answered with a heartbeat response; a connection
 *       with nothing read for --idle-timeout-ms (default 180000, Dubbo's 3 x 60 s) is closed.
 *   <li>Generic invocation ($invoke / $invokeAsync with String, String[], Object[]) with attachment
 *       generic=true (or absent): arguments are realized and results generalized as PojoUtils does.
 *       $echo answers its argument.
 * </ul>
 *
 * Usage: DubboProvider [--port N] [--idle-timeout-ms N]. Binds 127.0.0.1 (0 picks a free port), prints
 * `LISTENING <port>` once ready, exits on SIGTERM/SIGINT or when stdin closes.
 */
public final class DubboProvider {
    static final String INTERFACE = "org.apache.dubbo.demo.UserService";
    static final String VERSION = "1.0.0";
    static final String GENERIC_DESC = "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;";
    static final String PROTOCOL_VERSION = "2.0.2";

    static final byte MAGIC_HIGH = (byte) 0xda;
    static final byte MAGIC_LOW = (byte) 0xbb;
    static final int FLAG_REQUEST = 0x80;
    static final int FLAG_TWOWAY = 0x40;
    static final int FLAG_EVENT = 0x20;
    static final int SERIALIZATION_MASK = 0x1f;
    static final int HESSIAN2 = 2;
    static final int MAX_PAYLOAD = 8 * 1024 * 1024;

    static final byte OK = 20;
    static final byte BAD_REQUEST = 40;
    static final byte SERVICE_ERROR = 70;

    static final int RESPONSE_WITH_EXCEPTION = 0;
    static final int RESPONSE_VALUE = 1;
    static final int RESPONSE_NULL_VALUE = 2;
    static final int RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS = 3;
    static final int RESPONSE_VALUE_WITH_ATTACHMENTS = 4;
    static final int RESPONSE_NULL_VALUE_WITH_ATTACHMENTS = 5;

    static final SerializerFactory FACTORY = new PeerSerializerFactory();
    static final UserService SERVICE = new UserServiceImpl();

    private static int port;
    private static final ExecutorService WORKERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dubbo-worker");
        t.setDaemon(true);
        return t;
    });

    private DubboProvider() {}

    public static void main(String[] args) throws Exception {
        int requestedPort = 0;
        int idleTimeoutMs = 180_000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port":
                    requestedPort = Integer.parseInt(args[++i]);
                    break;
                case "--idle-timeout-ms":
                    idleTimeoutMs = Integer.parseInt(args[++i]);
                    break;
                default:
                    System.err.println("usage: DubboProvider [--port N] [--idle-timeout-ms N]");
                    System.exit(2);
            }
        }
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), requestedPort), 128);
        port = server.getLocalPort();

        System.out.println("LISTENING " + port);
        System.out.flush();

        Thread stdin = new Thread(() -> {
            try {
                byte[] buf = new byte[256];
                while (System.in.read(buf) >= 0) {
                    // discard
                }
            } catch (IOException ignored) {
                // treat as closed
            }
            System.exit(0);
        }, "stdin-watch");
        stdin.setDaemon(true);
        stdin.start();

        final int idle = idleTimeoutMs;
        while (true) {
            Socket socket = server.accept();
            socket.setTcpNoDelay(true);
            if (idle > 0) {
                socket.setSoTimeout(idle);
            }
            Thread t = new Thread(new Connection(socket), "dubbo-conn-" + socket.getPort());
            t.setDaemon(true);
            t.start();
        }
    }

    // ------------------------------------------------------------------------------------ connection

    static final class Connection implements Runnable {
        private final Socket socket;
        private final OutputStream out;
        private final String channel;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            this.channel = "consumer: " + socket.getRemoteSocketAddress() + " --> provider: " + socket.getLocalSocketAddress();
        }

        @Override
        public void run() {
            try (Socket s = socket) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] header = new byte[16];
                while (true) {
                    try {
                        in.readFully(header);
                    } catch (EOFException e) {
                        return;
                    } catch (SocketTimeoutException e) {
                        System.err.println("[java-provider] closing idle connection " + channel);
                        return;
                    }
                    if (header[0] != MAGIC_HIGH || header[1] != MAGIC_LOW) {
                        System.err.println("[java-provider] bad magic from " + channel + ", closing");
                        return;
                    }
                    int flag = header[2] & 0xff;
                    long id = readLong(header, 4);
                    int len = readInt(header, 12);
                    if (len < 0 || len > MAX_PAYLOAD) {
                        System.err.println("[java-provider] payload " + len + " over the limit from " + channel + ", closing");
                        return;
                    }
                    byte[] body = new byte[len];
                    in.readFully(body);
                    if ((flag & FLAG_REQUEST) == 0) {
                        continue; // a response (e.g. to nothing we sent): ignore
                    }
                    boolean twoWay = (flag & FLAG_TWOWAY) != 0;
                    if ((flag & SERIALIZATION_MASK) != HESSIAN2) {
                        if (twoWay) {
                            sendError(id, BAD_REQUEST, "Fail to decode request due to: unsupported serialization id "
                                    + (flag & SERIALIZATION_MASK) + " (this peer speaks hessian2, id 2)");
                        }
                        continue;
                    }
                    if ((flag & FLAG_EVENT) != 0) {
                        handleEvent(id, twoWay, body);
                        continue;
                    }
                    WORKERS.execute(() -> handleRequest(id, twoWay, body));
                }
            } catch (IOException e) {
                // connection gone
            }
        }

        private void handleEvent(long id, boolean twoWay, byte[] body) throws IOException {
            Object data;
            try {
                data = body.length == 0 ? null : newInput(body).readObject();
            } catch (IOException e) {
                data = e;
            }
            if (data == null && twoWay) {
                ByteArrayOutputStream bos = new ByteArrayOutputStream();
                Hessian2Output h = newOutput(bos);
                h.writeNull();
                h.flush();
                send(id, OK, true, bos.toByteArray());
            }
        }

        private void handleRequest(long id, boolean twoWay, byte[] body) {
            try {
                Invocation inv;
                try {
                    inv = Invocation.decode(body);
                } catch (Throwable t) {
                    if (twoWay) {
                        sendError(id, BAD_REQUEST, "Fail to decode request due to: " + stackTraceText(t));
                    }
                    return;
                }
                Result result;
                try {
                    result = dispatch(inv);
                } catch (Throwable t) {
                    if (twoWay) {
                        sendError(id, SERVICE_ERROR, stackTraceText(t));
                    }
                    return;
                }
                if (twoWay) {
                    sendResult(id, inv, result);
                }
            } catch (IOException e) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }

        private Result dispatch(Invocation inv) throws Exception {
            String exported = serviceKey("", INTERFACE, VERSION);
            String key = serviceKey(inv.group(), inv.path(), inv.version());
            if (!exported.equals(key)) {
                throw new RemotingException("Not found exported service: " + key + " in [" + exported
                        + "], may be version or group mismatch , channel: " + channel + ", message:" + inv);
            }
            if ("$echo".equals(inv.method) && inv.args.length == 1) {
                return Result.value(inv.args[0]);
            }
            if (("$invoke".equals(inv.method) || "$invokeAsync".equals(inv.method)) && GENERIC_DESC.equals(inv.desc)) {
                return invokeGeneric(inv);
            }
            Method method;
            try {
                method = UserService.class.getMethod(inv.method, inv.types);
            } catch (NoSuchMethodException e) {
                throw new RpcException("Failed to invoke remote proxy method " + inv.method + " to " + url()
                        + ", cause: Not found method \"" + inv.method + "\" with parameter types "
                        + Arrays.stream(inv.types).map(Class::getName).collect(Collectors.toList()) + " in class " + INTERFACE + ".");
            }
            try {
                return Result.value(method.invoke(SERVICE, inv.args));
            } catch (InvocationTargetException e) {
                return Result.exception(e.getTargetException());
            }
        }

        private Result invokeGeneric(Invocation inv) throws Exception {
            Object generic = inv.attachments.get("generic");
            if (generic != null && !"".equals(generic) && !"true".equals(generic)) {
                throw new RpcException("Generic serialization [" + generic + "] is not supported by this peer"
                        + " (only the default, generic=true)");
            }
            String name = (String) inv.args[0];
            String[] typeNames = (String[]) inv.args[1];
            Object[] args = inv.args[2] == null ? new Object[0] : (Object[]) inv.args[2];
            Method method;
            try {
                method = findMethodByMethodSignature(name, typeNames);
            } catch (NoSuchMethodException | ClassNotFoundException e) {
                throw new RpcException(e.getMessage(), e);
            }
            if (args.length != method.getParameterTypes().length) {
                throw new RpcException("GenericFilter#invoke args.length != types.length, please check your params");
            }
            Object[] realized = PojoUtils.realize(args, method.getParameterTypes(), method.getGenericParameterTypes());
            try {
                return Result.value(PojoUtils.generalize(method.invoke(SERVICE, realized)));
            } catch (InvocationTargetException e) {
                Throwable target = e.getTargetException();
                return Result.exception(target instanceof GenericException ? target : new GenericException(target));
            }
        }

        private void sendResult(long id, Invocation inv, Result result) throws IOException {
            boolean attach = isSupportResponseAttachment(inv.dubboVersion);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            Hessian2Output h = newOutput(bos);
            if (result.exception != null) {
                result.exception.getStackTrace(); // fill the stackTrace field before it is serialized
                h.writeInt(attach ? RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS : RESPONSE_WITH_EXCEPTION);
                h.writeObject(result.exception);
            } else if (result.value == null) {
                h.writeInt(attach ? RESPONSE_NULL_VALUE_WITH_ATTACHMENTS : RESPONSE_NULL_VALUE);
            } else {
                h.writeInt(attach ? RESPONSE_VALUE_WITH_ATTACHMENTS : RESPONSE_VALUE);
                h.writeObject(result.value);
            }
            if (attach) {
                Map<String, Object> attachments = new HashMap<>();
                attachments.put("dubbo", PROTOCOL_VERSION);
                h.writeObject(attachments);
            }
            h.flush();
            send(id, OK, false, bos.toByteArray());
        }

        private void sendError(long id, byte status, String message) throws IOException {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            Hessian2Output h = newOutput(bos);
            h.writeString(message);
            h.flush();
            send(id, status, false, bos.toByteArray());
        }

        private void send(long id, byte status, boolean event, byte[] body) throws IOException {
            byte[] frame = new byte[16 + body.length];
            frame[0] = MAGIC_HIGH;
            frame[1] = MAGIC_LOW;
            frame[2] = (byte) (HESSIAN2 | (event ? FLAG_EVENT : 0));
            frame[3] = status;
            for (int i = 0; i < 8; i++) {
                frame[4 + i] = (byte) (id >>> (56 - 8 * i));
            }
            for (int i = 0; i < 4; i++) {
                frame[12 + i] = (byte) (body.length >>> (24 - 8 * i));
            }
            System.arraycopy(body, 0, frame, 16, body.length);
            synchronized (out) {
                out.write(frame);
                out.flush();
            }
        }
    }

    // ------------------------------------------------------------------------------------ invocation

    static final class Invocation {
        String dubboVersion;
        String desc;
        String method;
        Class<?>[] types;
        Object[] args;
        final Map<String, Object> attachments = new HashMap<>();

        static Invocation decode(byte[] body) throws IOException, ClassNotFoundException {
            Hessian2Input in = newInput(body);
            Invocation inv = new Invocation();
            inv.dubboVersion = in.readString();
            inv.attachments.put("dubbo", inv.dubboVersion);
            inv.attachments.put("path", in.readString());
            inv.attachments.put("version", in.readString());
            inv.method = in.readString();
            inv.desc = in.readString();
            inv.types = desc2classArray(inv.desc == null ? "" : inv.desc);
            inv.args = new Object[inv.types.length];
            for (int i = 0; i < inv.types.length; i++) {
                inv.args[i] = in.readObject(inv.types[i]);
            }
            Object map = in.readObject(Map.class);
            if (map instanceof Map<?, ?>) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) map).entrySet()) {
                    inv.attachments.put(String.valueOf(e.getKey()), e.getValue());
                }
            }
            return inv;
        }

        String path() {
            return str(attachments.get("path"));
        }

        String version() {
            return str(attachments.get("version"));
        }

        String group() {
            return str(attachments.get("group"));
        }

        private static String str(Object o) {
            return o == null ? "" : o.toString();
        }

        @Override
        public String toString() {
            return "RpcInvocation [methodName=" + method + ", parameterTypes="
                    + Arrays.stream(types).map(Class::getName).collect(Collectors.toList())
                    + ", attachments=" + attachments + "]";
        }
    }

    static final class Result {
        final Object value;
        final Throwable exception;

        private Result(Object value, Throwable exception) {
            this.value = value;
            this.exception = exception;
        }

        static Result value(Object value) {
            return new Result(value, null);
        }

        static Result exception(Throwable exception) {
            return new Result(null, exception);
        }
    }

    static final class RpcException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RpcException(String message) {
            super(message);
        }

        RpcException(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public String toString() {
            return "org.apache.dubbo.rpc.RpcException" + (getMessage() == null ? "" : ": " + getMessage());
        }
    }

    static final class RemotingException extends Exception {
        private static final long serialVersionUID = 1L;

        RemotingException(String message) {
            super(message);
        }

        @Override
        public String toString() {
            return "org.apache.dubbo.remoting.RemotingException" + (getMessage() == null ? "" : ": " + getMessage());
        }
    }

    // --------------------------------------------------------------------------------------- helpers

    static Hessian2Input newInput(byte[] body) {
        Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(body));
        in.setSerializerFactory(FACTORY);
        return in;
    }

    static Hessian2Output newOutput(OutputStream out) {
        Hessian2Output h = new Hessian2Output(out);
        h.setSerializerFactory(FACTORY);
        return h;
    }

    static String url() {
        return "dubbo://127.0.0.1:" + port + "/" + INTERFACE + "?version=" + VERSION;
    }

    static String serviceKey(String group, String path, String version) {
        StringBuilder b = new StringBuilder();
        if (group != null && !group.isEmpty()) {
            b.append(group).append('/');
        }
        b.append(path);
        if (version != null && !version.isEmpty() && !"0.0.0".equals(version)) {
            b.append(':').append(version);
        }
        return b.append(':').append(port).toString();
    }

    /** Dubbo's StringUtils.toString(Throwable): class, message, then the stack trace. */
    static String stackTraceText(Throwable e) {
        StringWriter w = new StringWriter();
        try (PrintWriter p = new PrintWriter(w)) {
            p.println(e.toString());
            e.printStackTrace(p);
        }
        return w.toString();
    }

    /** Version.isSupportResponseAttachment: only protocol versions 2.0.2 ..= 2.0.99 get response attachments. */
    static boolean isSupportResponseAttachment(String version) {
        if (version == null || version.isEmpty()) {
            return false;
        }
        int v = intVersion(version);
        return v >= 2000200 && v <= 2009900;
    }

    static int intVersion(String version) {
        String[] parts = version.split("\\.");
        int v = 0;
        for (int i = 0; i < parts.length; i++) {
            String digits = parts[i].replaceAll("^(\\d*).*$", "$1");
            if (!digits.isEmpty()) {
                v += Integer.parseInt(digits) * (int) Math.pow(10, (parts.length - i - 1) * 2);
            }
        }
        if (parts.length == 3) {
            v *= 100;
        }
        return v;
    }

    /** JVM descriptor ("JLjava/lang/String;[B") to classes, as ReflectUtils.desc2classArray. */
    static Class<?>[] desc2classArray(String desc) throws ClassNotFoundException {
        List<Class<?>> out = new ArrayList<>();
        int i = 0;
        while (i < desc.length()) {
            int start = i;
            while (desc.charAt(i) == '[') {
                i++;
            }
            char c = desc.charAt(i);
            if (c == 'L') {
                int end = desc.indexOf(';', i);
                if (end < 0) {
                    throw new ClassNotFoundException("bad descriptor " + desc);
                }
                i = end + 1;
            } else {
                i++;
            }
            String one = desc.substring(start, i);
            out.add(descToClass(one));
        }
        return out.toArray(new Class<?>[0]);
    }

    private static Class<?> descToClass(String d) throws ClassNotFoundException {
        switch (d) {
            case "Z": return boolean.class;
            case "B": return byte.class;
            case "C": return char.class;
            case "D": return double.class;
            case "F": return float.class;
            case "I": return int.class;
            case "J": return long.class;
            case "S": return short.class;
            case "V": return void.class;
            default:
                break;
        }
        String name = d.startsWith("[") ? d.replace('/', '.') : d.substring(1, d.length() - 1).replace('/', '.');
        if (!d.startsWith("[") && !d.startsWith("L")) {
            throw new ClassNotFoundException("bad descriptor element " + d);
        }
        return Class.forName(name, false, DubboProvider.class.getClassLoader());
    }

    /** GenericFilter's lookup: by name alone when no types are given (must be unique), else by exact types. */
    static Method findMethodByMethodSignature(String name, String[] typeNames) throws NoSuchMethodException, ClassNotFoundException {
        if (typeNames == null) {
            List<Method> found = new ArrayList<>();
            for (Method m : UserService.class.getMethods()) {
                if (m.getName().equals(name)) {
                    found.add(m);
                }
            }
            if (found.isEmpty()) {
                throw new NoSuchMethodException("No such method " + name + " in class " + UserService.class);
            }
            if (found.size() > 1) {
                throw new IllegalStateException("Not unique method for method name(" + name + ") in class("
                        + INTERFACE + "), find " + found.size() + " methods.");
            }
            return found.get(0);
        }
        Class<?>[] types = new Class<?>[typeNames.length];
        for (int i = 0; i < typeNames.length; i++) {
            types[i] = name2class(typeNames[i]);
        }
        return UserService.class.getMethod(name, types);
    }

    /** ReflectUtils.name2class: "int", "java.lang.String[]", "[B", "org.apache.dubbo.demo.User". */
    static Class<?> name2class(String name) throws ClassNotFoundException {
        int dims = 0;
        String base = name;
        while (base.endsWith("[]")) {
            dims++;
            base = base.substring(0, base.length() - 2);
        }
        Class<?> c;
        switch (base) {
            case "boolean": c = boolean.class; break;
            case "byte": c = byte.class; break;
            case "char": c = char.class; break;
            case "double": c = double.class; break;
            case "float": c = float.class; break;
            case "int": c = int.class; break;
            case "long": c = long.class; break;
            case "short": c = short.class; break;
            case "void": c = void.class; break;
            default: c = Class.forName(base, false, DubboProvider.class.getClassLoader());
        }
        for (int i = 0; i < dims; i++) {
            c = java.lang.reflect.Array.newInstance(c, 0).getClass();
        }
        return c;
    }

    static long readLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xffL);
        }
        return v;
    }

    static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }
}
