package org.apache.dubbo.demo;

public enum Role {
    ADMIN,
    MEMBER
}
