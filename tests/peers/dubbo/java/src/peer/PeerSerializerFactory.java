package peer;

import com.caucho.hessian.io.AbstractDeserializer;
import com.caucho.hessian.io.AbstractHessianInput;
import com.caucho.hessian.io.AbstractHessianOutput;
import com.caucho.hessian.io.AbstractSerializer;
import com.caucho.hessian.io.Deserializer;
import com.caucho.hessian.io.HessianProtocolException;
import com.caucho.hessian.io.Serializer;
import com.caucho.hessian.io.SerializerFactory;
import java.io.IOException;
import java.math.BigDecimal;

/**
 * Caucho's SerializerFactory with java.math.BigDecimal in hessian-lite's (Java Dubbo's) form: an object of
 * class `java.math.BigDecimal` with one field `value` holding the decimal string. Caucho's default writes
 * BigDecimal's internal fields, which no other hessian implementation reads back.
 */
public class PeerSerializerFactory extends SerializerFactory {
    private static final BigDecimalSerializer BIG_DECIMAL_SERIALIZER = new BigDecimalSerializer();
    private static final BigDecimalDeserializer BIG_DECIMAL_DESERIALIZER = new BigDecimalDeserializer();

    public PeerSerializerFactory() {
        super(PeerSerializerFactory.class.getClassLoader());
        setAllowNonSerializable(true);
    }

    @Override
    public Serializer getSerializer(Class cl) throws HessianProtocolException {
        if (cl == BigDecimal.class) {
            return BIG_DECIMAL_SERIALIZER;
        }
        return super.getSerializer(cl);
    }

    @Override
    public Deserializer getDeserializer(Class cl) throws HessianProtocolException {
        if (cl == BigDecimal.class) {
            return BIG_DECIMAL_DESERIALIZER;
        }
        return super.getDeserializer(cl);
    }

    /** Writes `C "java.math.BigDecimal" 1 "value"` once per stream, then `O <def> "<toString()>"`. */
    static final class BigDecimalSerializer extends AbstractSerializer {
        @Override
        public void writeObject(Object obj, AbstractHessianOutput out) throws IOException {
            if (obj == null) {
                out.writeNull();
                return;
            }
            if (out.addRef(obj)) {
                return;
            }
            String type = BigDecimal.class.getName();
            int ref = out.writeObjectBegin(type);
            if (ref < -1) { // hessian 1 style map
                out.writeString("value");
                out.writeString(obj.toString());
                out.writeMapEnd();
            } else {
                if (ref == -1) {
                    out.writeInt(1);
                    out.writeString("value");
                    out.writeObjectBegin(type);
                }
                out.writeString(obj.toString());
            }
        }
    }

    /** Reads the object form above (or a map with a `value` key) back into a BigDecimal. */
    static final class BigDecimalDeserializer extends AbstractDeserializer {
        @Override
        public Class<?> getType() {
            return BigDecimal.class;
        }

        @Override
        public Object readMap(AbstractHessianInput in) throws IOException {
            int ref = in.addRef(null);
            String value = null;
            while (!in.isEnd()) {
                String key = in.readString();
                Object v = in.readObject();
                if ("value".equals(key)) {
                    value = v == null ? null : v.toString();
                }
            }
            in.readMapEnd();
            BigDecimal result = value == null ? null : new BigDecimal(value);
            in.setRef(ref, result);
            return result;
        }

        @Override
        public Object[] createFields(int len) {
            return new String[len];
        }

        @Override
        public Object createField(String name) {
            return name;
        }

        @Override
        public Object readObject(AbstractHessianInput in, Object[] fields) throws IOException {
            String[] names = new String[fields.length];
            for (int i = 0; i < fields.length; i++) {
                names[i] = (String) fields[i];
            }
            return readObject(in, names);
        }

        @Override
        public Object readObject(AbstractHessianInput in, String[] fieldNames) throws IOException {
            int ref = in.addRef(null);
            String value = null;
            for (String name : fieldNames) {
                Object v = in.readObject();
                if ("value".equals(name)) {
                    value = v == null ? null : v.toString();
                }
            }
            BigDecimal result = value == null ? null : new BigDecimal(value);
            in.setRef(ref, result);
            return result;
        }
    }
}
