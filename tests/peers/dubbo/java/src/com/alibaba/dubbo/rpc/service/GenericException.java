package com.alibaba.dubbo.rpc.service;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * The exception Java Dubbo's GenericFilter sends back for a generic ($invoke) call whose method threw:
 * the real exception's class and message travel in exceptionClass / exceptionMessage, and the detail
 * message is the real exception's stack trace as text (Dubbo's StringUtils.toString(Throwable)).
 */
public class GenericException extends RuntimeException {
    private static final long serialVersionUID = -1182299763306599962L;

    private String exceptionClass;
    private String exceptionMessage;

    public GenericException() {}

    public GenericException(String exceptionClass, String exceptionMessage) {
        super(exceptionMessage);
        this.exceptionClass = exceptionClass;
        this.exceptionMessage = exceptionMessage;
    }

    public GenericException(Throwable cause) {
        super(toString(cause));
        this.exceptionClass = cause.getClass().getName();
        this.exceptionMessage = cause.getMessage();
    }

    public String getExceptionClass() { return exceptionClass; }
    public void setExceptionClass(String exceptionClass) { this.exceptionClass = exceptionClass; }
    public String getExceptionMessage() { return exceptionMessage; }
    public void setExceptionMessage(String exceptionMessage) { this.exceptionMessage = exceptionMessage; }

    private static String toString(Throwable e) {
        StringWriter w = new StringWriter();
        PrintWriter p = new PrintWriter(w);
        p.print(e.getClass().getName());
        if (e.getMessage() != null) {
            p.print(": " + e.getMessage());
        }
        p.println();
        try {
            e.printStackTrace(p);
            return w.toString();
        } finally {
            p.close();
        }
    }
}
