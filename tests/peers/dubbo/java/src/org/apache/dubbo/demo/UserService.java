package org.apache.dubbo.demo;

import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** The contract every peer in tests/peers/dubbo serves (version 1.0.0). */
public interface UserService {
    User getUser(long id);

    User createUser(User user);

    String ping();

    String greet(String name);

    String greet(String name, int times);

    long sum(List<Long> values);

    Map<String, Object> echoMap(Map<String, Object> m);

    byte[] echoBytes(byte[] b);

    BigDecimal echoDecimal(BigDecimal d);

    Date echoDate(Date d);

    String slow(int millis);

    User nullResult();
}
