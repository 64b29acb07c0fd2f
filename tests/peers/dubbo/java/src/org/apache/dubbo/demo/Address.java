package org.apache.dubbo.demo;

import java.io.Serializable;
import java.util.Objects;

public class Address implements Serializable {
    private static final long serialVersionUID = 1L;

    private String city;
    private String street;

    public Address() {}

    public Address(String city, String street) {
        this.city = city;
        this.street = street;
    }

    public String getCity() { return city; }
    public void setCity(String city) { this.city = city; }
    public String getStreet() { return street; }
    public void setStreet(String street) { this.street = street; }

    @Override
    public boolean equals(Object o) {
        return o instanceof Address && Objects.equals(city, ((Address) o).city) && Objects.equals(street, ((Address) o).street);
    }

    @Override
    public int hashCode() { return Objects.hash(city, street); }

    @Override
    public String toString() { return "Address{city=" + city + ", street=" + street + "}"; }
}
