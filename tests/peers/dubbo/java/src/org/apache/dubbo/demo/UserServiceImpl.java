package org.apache.dubbo.demo;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Same data as tests/peers/dubbo/lib/user_service.js; keep the two in step. */
public class UserServiceImpl implements UserService {
    @Override
    public User getUser(long id) {
        if (id == 404) {
            throw new IllegalArgumentException("no user 404");
        }
        User u = new User();
        Map<String, String> attrs = new HashMap<>();
        if (id == 1) {
            u.setId(1);
            u.setName("alice");
            u.setAge(30);
            u.setCreatedAt(new Date(1704164645678L)); // 2024-01-02T03:04:05.678Z
            u.setBalance(new BigDecimal("1234.56"));
            u.setTags(new ArrayList<>(List.of("admin", "early")));
            attrs.put("team", "core");
            attrs.put("tz", "UTC");
            u.setAddress(new Address("Hangzhou", "1 West Lake Rd"));
            u.setRole(Role.ADMIN);
        } else {
            u.setId(id);
            u.setName("user-" + id);
            u.setAge(20 + (int) (Math.abs(id) % 50));
            u.setCreatedAt(new Date(1704067200000L + id * 1000L)); // 2024-01-01T00:00:00Z + id seconds
            u.setBalance(new BigDecimal(id + ".50"));
            u.setTags(new ArrayList<>(Collections.singletonList("generated")));
            attrs.put("source", "generated");
            u.setAddress(new Address("City " + id, id + " Main St"));
            u.setRole(Role.MEMBER);
        }
        u.setAttrs(attrs);
        return u;
    }

    @Override
    public User createUser(User user) {
        if (user != null && user.getId() == 0) {
            user.setId(1000);
        }
        return user;
    }

    @Override
    public String ping() {
        return "pong";
    }

    @Override
    public String greet(String name) {
        return "hello, " + name;
    }

    @Override
    public String greet(String name, int times) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            parts.add("hello, " + name);
        }
        return String.join(" ", parts);
    }

    @Override
    public long sum(List<Long> values) {
        long total = 0;
        if (values != null) {
            // Raw iteration: a caller may write small longs as hessian ints, which arrive as Integer.
            for (Object v : (List<?>) values) {
                total += ((Number) v).longValue();
            }
        }
        return total;
    }

    @Override
    public Map<String, Object> echoMap(Map<String, Object> m) {
        return m;
    }

    @Override
    public byte[] echoBytes(byte[] b) {
        return b;
    }

    @Override
    public BigDecimal echoDecimal(BigDecimal d) {
        return d;
    }

    @Override
    public Date echoDate(Date d) {
        return d;
    }

    @Override
    public String slow(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "slept";
    }

    @Override
    public User nullResult() {
        return null;
    }
}
