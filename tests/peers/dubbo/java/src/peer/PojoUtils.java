package peer;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.text.ParseException;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The conversions Java Dubbo's generic invocation does (org.apache.dubbo.common.utils.PojoUtils and
 * CompatibleTypeUtils), reduced to what the UserService contract needs but with the same rules:
 * generalize turns POJOs into HashMaps with a "class" key and one entry per bean property, enums into
 * their name, and keeps primitives, strings, numbers (BigDecimal included), dates and primitive arrays;
 * realize turns such maps (with or without "class") back into the target type, enums from their name,
 * and converts between number types, strings and dates as CompatibleTypeUtils does.
 */
public final class PojoUtils {
    private static final String DATE_FORMAT = "yyyy-MM-dd HH:mm:ss";

    private PojoUtils() {}

    // ------------------------------------------------------------------------------------ generalize

    public static Object generalize(Object pojo) {
        return generalize(pojo, new IdentityHashMap<>());
    }

    private static boolean isPrimitives(Class<?> cls) {
        if (cls.isArray()) {
            return isPrimitive(cls.getComponentType());
        }
        return isPrimitive(cls);
    }

    private static boolean isPrimitive(Class<?> cls) {
        return cls.isPrimitive() || cls == String.class || cls == Boolean.class || cls == Character.class
                || Number.class.isAssignableFrom(cls) || Date.class.isAssignableFrom(cls);
    }

    @SuppressWarnings("unchecked")
    private static Object generalize(Object pojo, IdentityHashMap<Object, Object> history) {
        if (pojo == null) {
            return null;
        }
        if (pojo instanceof Enum<?>) {
            return ((Enum<?>) pojo).name();
        }
        if (pojo.getClass().isArray() && Enum.class.isAssignableFrom(pojo.getClass().getComponentType())) {
            int len = Array.getLength(pojo);
            String[] values = new String[len];
            for (int i = 0; i < len; i++) {
                values[i] = ((Enum<?>) Array.get(pojo, i)).name();
            }
            return values;
        }
        if (isPrimitives(pojo.getClass())) {
            return pojo;
        }
        if (pojo instanceof Class) {
            return ((Class<?>) pojo).getName();
        }
        Object o = history.get(pojo);
        if (o != null) {
            return o;
        }
        history.put(pojo, pojo);
        if (pojo.getClass().isArray()) {
            int len = Array.getLength(pojo);
            Object[] dest = new Object[len];
            history.put(pojo, dest);
            for (int i = 0; i < len; i++) {
                dest[i] = generalize(Array.get(pojo, i), history);
            }
            return dest;
        }
        if (pojo instanceof Collection<?>) {
            Collection<Object> src = (Collection<Object>) pojo;
            Collection<Object> dest = (pojo instanceof List<?>) ? new ArrayList<>(src.size()) : new HashSet<>(src.size());
            history.put(pojo, dest);
            for (Object obj : src) {
                dest.add(generalize(obj, history));
            }
            return dest;
        }
        if (pojo instanceof Map<?, ?>) {
            Map<Object, Object> src = (Map<Object, Object>) pojo;
            Map<Object, Object> dest = createMap(src);
            history.put(pojo, dest);
            for (Map.Entry<Object, Object> e : src.entrySet()) {
                dest.put(generalize(e.getKey(), history), generalize(e.getValue(), history));
            }
            return dest;
        }
        Map<String, Object> map = new HashMap<>();
        history.put(pojo, map);
        map.put("class", pojo.getClass().getName());
        for (Method method : pojo.getClass().getMethods()) {
            if (isBeanPropertyReadMethod(method)) {
                try {
                    map.put(propertyNameFromGetter(method), generalize(method.invoke(pojo), history));
                } catch (Exception e) {
                    throw new RuntimeException(e.getMessage(), e);
                }
            }
        }
        for (Field field : pojo.getClass().getFields()) {
            if (isPublicInstanceField(field) && !map.containsKey(field.getName())) {
                try {
                    map.put(field.getName(), generalize(field.get(pojo), history));
                } catch (Exception e) {
                    throw new RuntimeException(e.getMessage(), e);
                }
            }
        }
        return map;
    }

    private static Map<Object, Object> createMap(Map<Object, Object> src) {
        if (src instanceof SortedMap) {
            return new TreeMap<>();
        }
        if (src instanceof LinkedHashMap) {
            return new LinkedHashMap<>();
        }
        return new HashMap<>();
    }

    private static boolean isBeanPropertyReadMethod(Method method) {
        return method != null && Modifier.isPublic(method.getModifiers()) && !Modifier.isStatic(method.getModifiers())
                && method.getReturnType() != void.class && method.getDeclaringClass() != Object.class
                && method.getParameterTypes().length == 0
                && ((method.getName().startsWith("get") && method.getName().length() > 3)
                        || (method.getName().startsWith("is") && method.getName().length() > 2));
    }

    private static String propertyNameFromGetter(Method method) {
        String name = method.getName();
        String rest = name.startsWith("get") ? name.substring(3) : name.substring(2);
        return rest.substring(0, 1).toLowerCase() + rest.substring(1);
    }

    private static boolean isPublicInstanceField(Field field) {
        int m = field.getModifiers();
        return Modifier.isPublic(m) && !Modifier.isStatic(m) && !Modifier.isFinal(m) && !field.isSynthetic();
    }

    // --------------------------------------------------------------------------------------- realize

    public static Object[] realize(Object[] objs, Class<?>[] types, Type[] genericTypes) {
        if (objs.length != types.length) {
            throw new IllegalArgumentException("args.length != types.length");
        }
        Object[] dests = new Object[objs.length];
        for (int i = 0; i < objs.length; i++) {
            dests[i] = realize(objs[i], types[i], genericTypes[i]);
        }
        return dests;
    }

    public static Object realize(Object pojo, Class<?> type, Type genericType) {
        return realize0(pojo, type, genericType, new IdentityHashMap<>());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object realize0(Object pojo, Class<?> type, Type genericType, IdentityHashMap<Object, Object> history) {
        if (pojo == null) {
            return null;
        }
        if (type != null && type.isEnum() && pojo.getClass() == String.class) {
            return Enum.valueOf((Class<Enum>) type, (String) pojo);
        }
        if (isPrimitives(pojo.getClass())
                && !(type != null && type.isArray() && type.getComponentType().isEnum() && pojo.getClass() == String[].class)) {
            return compatibleTypeConvert(pojo, type);
        }
        Object o = history.get(pojo);
        if (o != null) {
            return o;
        }
        history.put(pojo, pojo);

        if (pojo.getClass().isArray()) {
            if (type != null && type.isArray()) {
                Class<?> ctype = type.getComponentType();
                int len = Array.getLength(pojo);
                Object dest = Array.newInstance(ctype, len);
                history.put(pojo, dest);
                for (int i = 0; i < len; i++) {
                    Array.set(dest, i, realize0(Array.get(pojo, i), ctype, ctype, history));
                }
                return dest;
            }
            Collection<Object> dest = createCollection(type, Array.getLength(pojo));
            history.put(pojo, dest);
            Class<?> ctype = elementClass(genericType, 0);
            for (int i = 0; i < Array.getLength(pojo); i++) {
                dest.add(realize0(Array.get(pojo, i), ctype, typeArgument(genericType, 0), history));
            }
            return dest;
        }

        if (pojo instanceof Collection<?>) {
            Collection<Object> src = (Collection<Object>) pojo;
            if (type != null && type.isArray()) {
                Class<?> ctype = type.getComponentType();
                Object dest = Array.newInstance(ctype, src.size());
                history.put(pojo, dest);
                int i = 0;
                for (Object obj : src) {
                    Array.set(dest, i++, realize0(obj, ctype, ctype, history));
                }
                return dest;
            }
            Collection<Object> dest = createCollection(type, src.size());
            history.put(pojo, dest);
            Class<?> ctype = elementClass(genericType, 0);
            for (Object obj : src) {
                dest.add(realize0(obj, ctype, typeArgument(genericType, 0), history));
            }
            return dest;
        }

        if (pojo instanceof Map<?, ?> && type != null) {
            Map<Object, Object> map = (Map<Object, Object>) pojo;
            Object className = map.get("class");
            if (className instanceof String) {
                try {
                    type = Class.forName((String) className, true, PojoUtils.class.getClassLoader());
                } catch (ClassNotFoundException e) {
                    throw new RuntimeException("class not found: " + className, e);
                }
            }
            if (type.isEnum()) {
                Object name = map.get("name");
                if (name != null) {
                    return Enum.valueOf((Class<Enum>) type, name.toString());
                }
            }
            if (Map.class.isAssignableFrom(type) || type == Object.class) {
                Map<Object, Object> result = (type.isInterface() || type == Object.class || Modifier.isAbstract(type.getModifiers()))
                        ? new HashMap<>() : (Map<Object, Object>) newInstance(type);
                history.put(pojo, result);
                Class<?> keyClass = elementClass(genericType, 0);
                Class<?> valueClass = elementClass(genericType, 1);
                for (Map.Entry<Object, Object> e : map.entrySet()) {
                    if (type == Object.class && "class".equals(e.getKey())) {
                        continue;
                    }
                    result.put(realize0(e.getKey(), keyClass, typeArgument(genericType, 0), history),
                            realize0(e.getValue(), valueClass, typeArgument(genericType, 1), history));
                }
                return result;
            }
            if (type.isInterface()) {
                throw new RuntimeException("cannot realize interface " + type.getName() + " from a map");
            }
            Object dest = newInstance(type);
            history.put(pojo, dest);
            for (Map.Entry<Object, Object> e : map.entrySet()) {
                if (!(e.getKey() instanceof String) || "class".equals(e.getKey())) {
                    continue;
                }
                String name = (String) e.getKey();
                Method setter = setter(dest.getClass(), name);
                try {
                    if (setter != null) {
                        Object value = realize0(e.getValue(), setter.getParameterTypes()[0], setter.getGenericParameterTypes()[0], history);
                        setter.invoke(dest, value);
                    } else {
                        Field field = publicField(dest.getClass(), name);
                        if (field != null) {
                            field.set(dest, realize0(e.getValue(), field.getType(), field.getGenericType(), history));
                        }
                    }
                } catch (RuntimeException ex) {
                    throw ex;
                } catch (Exception ex) {
                    throw new RuntimeException("Failed to set pojo " + dest.getClass().getSimpleName() + " property " + name
                            + " value " + e.getValue() + ", cause: " + ex.getMessage(), ex);
                }
            }
            return dest;
        }
        return pojo;
    }

    private static Object newInstance(Class<?> cls) {
        try {
            Constructor<?> c = cls.getDeclaredConstructor();
            c.setAccessible(true);
            return c.newInstance();
        } catch (Exception e) {
            throw new RuntimeException("cannot instantiate " + cls.getName() + ": " + e, e);
        }
    }

    private static Collection<Object> createCollection(Class<?> type, int len) {
        if (type == null || type.isAssignableFrom(ArrayList.class)) {
            return new ArrayList<>(len);
        }
        if (type.isAssignableFrom(HashSet.class)) {
            return new HashSet<>(len);
        }
        if (type.isAssignableFrom(LinkedHashSet.class)) {
            return new LinkedHashSet<>(len);
        }
        if (type.isAssignableFrom(TreeSet.class) || SortedSet.class.isAssignableFrom(type)) {
            return new TreeSet<>();
        }
        if (!type.isInterface() && Collection.class.isAssignableFrom(type)) {
            @SuppressWarnings("unchecked")
            Collection<Object> c = (Collection<Object>) newInstance(type);
            return c;
        }
        return Set.class.isAssignableFrom(type) ? new HashSet<>(len) : new ArrayList<>(len);
    }

    private static Type typeArgument(Type genericType, int index) {
        if (genericType instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) genericType).getActualTypeArguments();
            return index < args.length ? args[index] : null;
        }
        return null;
    }

    private static Class<?> elementClass(Type genericType, int index) {
        Type t = typeArgument(genericType, index);
        if (t instanceof Class<?>) {
            return (Class<?>) t;
        }
        if (t instanceof ParameterizedType) {
            return (Class<?>) ((ParameterizedType) t).getRawType();
        }
        if (t instanceof GenericArrayType) {
            return Object[].class;
        }
        return null;
    }

    private static Method setter(Class<?> cls, String property) {
        String name = "set" + property.substring(0, 1).toUpperCase() + property.substring(1);
        for (Method m : cls.getMethods()) {
            if (m.getName().equals(name) && m.getParameterTypes().length == 1 && !Modifier.isStatic(m.getModifiers())) {
                return m;
            }
        }
        return null;
    }

    private static Field publicField(Class<?> cls, String name) {
        try {
            Field f = cls.getField(name);
            return isPublicInstanceField(f) ? f : null;
        } catch (NoSuchFieldException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------- CompatibleTypeUtils

    /** Dubbo's CompatibleTypeUtils.compatibleTypeConvert: the lenient conversions of generic calls. */
    static Object compatibleTypeConvert(Object value, Class<?> type) {
        if (value == null || type == null || type.isAssignableFrom(value.getClass())) {
            return value;
        }
        if (value instanceof String) {
            String string = (String) value;
            if (char.class == type || Character.class == type) {
                if (string.length() != 1) {
                    throw new IllegalArgumentException(String.format("CAN NOT convert String(%s) to char!"
                            + " when convert String to char, the String MUST only 1 char.", string));
                }
                return string.charAt(0);
            }
            if (type.isEnum()) {
                @SuppressWarnings({"unchecked", "rawtypes"})
                Object e = Enum.valueOf((Class<Enum>) type, string);
                return e;
            }
            if (type == BigInteger.class) {
                return new BigInteger(string);
            }
            if (type == BigDecimal.class) {
                return new BigDecimal(string);
            }
            if (type == Short.class || type == short.class) {
                return new BigDecimal(string).shortValue();
            }
            if (type == Integer.class || type == int.class) {
                return new BigDecimal(string).intValue();
            }
            if (type == Long.class || type == long.class) {
                return new BigDecimal(string).longValue();
            }
            if (type == Double.class || type == double.class) {
                return new BigDecimal(string).doubleValue();
            }
            if (type == Float.class || type == float.class) {
                return new BigDecimal(string).floatValue();
            }
            if (type == Byte.class || type == byte.class) {
                return new BigDecimal(string).byteValue();
            }
            if (type == Boolean.class || type == boolean.class) {
                return Boolean.valueOf(string);
            }
            if (type == Date.class) {
                try {
                    return new SimpleDateFormat(DATE_FORMAT).parse(string);
                } catch (ParseException e) {
                    throw new IllegalStateException("Failed to parse date " + value + " by format " + DATE_FORMAT
                            + ", cause: " + e.getMessage(), e);
                }
            }
            if (type == Class.class) {
                try {
                    return Class.forName(string);
                } catch (ClassNotFoundException e) {
                    throw new RuntimeException(e.getMessage(), e);
                }
            }
            if (type == char[].class) {
                return string.toCharArray();
            }
        } else if (value instanceof Number) {
            Number number = (Number) value;
            if (type == byte.class || type == Byte.class) {
                return number.byteValue();
            }
            if (type == short.class || type == Short.class) {
                return number.shortValue();
            }
            if (type == int.class || type == Integer.class) {
                return number.intValue();
            }
            if (type == long.class || type == Long.class) {
                return number.longValue();
            }
            if (type == float.class || type == Float.class) {
                return number.floatValue();
            }
            if (type == double.class || type == Double.class) {
                return number.doubleValue();
            }
            if (type == BigInteger.class) {
                return BigInteger.valueOf(number.longValue());
            }
            if (type == BigDecimal.class) {
                return new BigDecimal(number.toString());
            }
            if (type == Date.class) {
                return new Date(number.longValue());
            }
            if (type == boolean.class || type == Boolean.class) {
                return number.intValue() != 0;
            }
            if (type == String.class) {
                return number.toString();
            }
        } else if (value instanceof Date && type == String.class) {
            return new SimpleDateFormat(DATE_FORMAT).format((Date) value);
        }
        return value;
    }
}
