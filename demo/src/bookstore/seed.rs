//! The data every bookstore starts with. The Python peer in `tests/peers/grpcio_server.py` seeds the same.

use std::collections::{BTreeMap, HashMap};

use prost_types::{Duration, Struct, Timestamp, Value};

use crate::pb::bookstore::{Book, Genre};

/// Shelf themes, in id order, each with its books in id order.
pub(crate) fn books() -> Vec<(&'static str, Vec<Book>)> {
    let dune = Book {
        name: "shelves/1/books/1".into(),
        title: "Dune".into(),
        author: "Frank Herbert".into(),
        genre: Genre::Fiction as i32,
        published: Some(Timestamp {
            seconds: -139_449_600,
            nanos: 0,
        }), // 1965-08-01
        read_time: Some(Duration {
            seconds: 16 * 3600,
            nanos: 0,
        }),
        pages: Some(412),
        metadata: Some(Struct {
            fields: BTreeMap::from([
                ("series".to_string(), Value::from("Dune")),
                (
                    "awards".to_string(),
                    Value::from(vec![Value::from("Hugo"), Value::from("Nebula")]),
                ),
                ("sequels".to_string(), Value::from(5.0)),
            ]),
        }),
        isbn: 9_780_441_013_593,
        tags: vec!["classic".into(), "space".into()],
        labels: HashMap::from([("language".to_string(), "en".to_string())]),
        cover: b"DUNE".to_vec(),
        price: 9.99,
        available: true,
    };
    let left_hand = Book {
        name: "shelves/1/books/2".into(),
        title: "The Left Hand of Darkness".into(),
        author: "Ursula K. Le Guin".into(),
        genre: Genre::Fiction as i32,
        published: Some(Timestamp {
            seconds: -26_438_400,
            nanos: 0,
        }), // 1969-03-01
        pages: Some(304),
        isbn: 9_780_441_478_125,
        tags: vec!["classic".into()],
        price: 8.5,
        available: false,
        ..Book::default()
    };
    let brief_history = Book {
        name: "shelves/2/books/1".into(),
        title: "A Brief History of Time".into(),
        author: "Stephen Hawking".into(),
        genre: Genre::Science as i32,
        published: Some(Timestamp {
            seconds: 575_856_000,
            nanos: 0,
        }), // 1988-04-01
        pages: Some(256),
        isbn: 9_780_553_380_163,
        tags: vec!["cosmology".into()],
        labels: HashMap::from([("language".to_string(), "en".to_string())]),
        price: 12.0,
        available: true,
        ..Book::default()
    };
    vec![
        ("Fiction", vec![dune, left_hand]),
        ("Science", vec![brief_history]),
    ]
}
