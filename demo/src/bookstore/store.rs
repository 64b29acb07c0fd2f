//! The bookstore's in-memory state and the rules on it, apart from the gRPC plumbing.

use std::collections::BTreeMap;

use prost_types::FieldMask;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::pb::bookstore::{Book, BookFilter, Genre, ListBooksRequest, ListBooksResponse, Shelf};

/// Shelves by id, each with its books in creation order.
#[derive(Debug)]
pub(crate) struct Store {
    shelves: BTreeMap<i64, ShelfEntry>,
    next_shelf: i64,
}

#[derive(Debug)]
struct ShelfEntry {
    shelf: Shelf,
    books: Vec<Book>,
    next_book: i64,
}

/// The fields `UpdateBook` can set, by `.proto` name.
const UPDATABLE: &[&str] = &[
    "title",
    "author",
    "genre",
    "published",
    "read_time",
    "pages",
    "metadata",
    "isbn",
    "tags",
    "labels",
    "cover",
    "price",
    "available",
];

impl Store {
    /// Shelf 1 "Fiction" with books 1 (Dune) and 2, shelf 2 "Science" with book 1. The Python peer in
    /// `tests/peers/grpcio_server.py` seeds the same data.
    pub(crate) fn seeded() -> Self {
        let mut store = Store {
            shelves: BTreeMap::new(),
            next_shelf: 1,
        };
        for (theme, books) in super::seed::books() {
            let id = store.insert_shelf(theme);
            for book in books {
                // Seed names are well-formed and unique, so insertion cannot fail.
                let _ = store.create_book(id, Some(book));
            }
        }
        store
    }

    pub(crate) fn shelves(&self) -> Vec<Shelf> {
        self.shelves
            .values()
            .map(|entry| entry.shelf.clone())
            .collect()
    }

    pub(crate) fn create_shelf(&mut self, shelf: Option<Shelf>) -> Result<Shelf, Status> {
        let theme = shelf.map(|s| s.theme).unwrap_or_default();
        if theme.trim().is_empty() {
            return Err(Status::with_error_details(
                Code::InvalidArgument,
                "shelf.theme must not be empty",
                ErrorDetails::with_bad_request_violation("shelf.theme", "must not be empty"),
            ));
        }
        let id = self.insert_shelf(&theme);
        self.shelf(id)
    }

    pub(crate) fn shelf(&self, id: i64) -> Result<Shelf, Status> {
        Ok(self.entry(id)?.shelf.clone())
    }

    pub(crate) fn delete_shelf(&mut self, id: i64) -> Result<(), Status> {
        self.shelves
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| shelf_not_found(id))
    }

    pub(crate) fn book_count(&self, shelf: i64) -> Result<usize, Status> {
        Ok(self.entry(shelf)?.books.len())
    }

    /// Filters, then pages; the page token is the offset of the next page.
    pub(crate) fn list_books(
        &self,
        request: &ListBooksRequest,
    ) -> Result<ListBooksResponse, Status> {
        let entry = self.entry(request.shelf)?;
        if request.page_size < 0 {
            return Err(Status::invalid_argument("page_size must not be negative"));
        }
        let offset: usize = match request.page_token.as_str() {
            "" => 0,
            token => token
                .parse()
                .map_err(|_| Status::invalid_argument(format!("invalid page_token `{token}`")))?,
        };
        let matching: Vec<&Book> = entry
            .books
            .iter()
            .filter(|book| matches(book, &request.authors, request.filter.as_ref()))
            .collect();
        let page_size = match request.page_size {
            0 => matching.len(),
            size => usize::try_from(size).unwrap_or(usize::MAX),
        };
        let end = offset.saturating_add(page_size).min(matching.len());
        let books = matching
            .get(offset..end)
            .unwrap_or_default()
            .iter()
            .map(|b| (*b).clone())
            .collect();
        let next_page_token = if end < matching.len() {
            end.to_string()
        } else {
            String::new()
        };
        Ok(ListBooksResponse {
            books,
            next_page_token,
        })
    }

    /// Names the book `shelves/{shelf}/books/{next id}` when it has no name; a given name must lie under
    /// `shelf` and be new.
    pub(crate) fn create_book(&mut self, shelf: i64, book: Option<Book>) -> Result<Book, Status> {
        let entry = self.entry_mut(shelf)?;
        let mut book = book.ok_or_else(|| Status::invalid_argument("book is required"))?;
        if book.name.is_empty() {
            book.name = format!("shelves/{shelf}/books/{}", entry.next_book);
            entry.next_book += 1;
        } else {
            let (named_shelf, id) = parse_book_name(&book.name)?;
            if named_shelf != shelf {
                return Err(Status::invalid_argument(format!(
                    "book name `{}` is not under shelves/{shelf}",
                    book.name
                )));
            }
            if entry.books.iter().any(|b| b.name == book.name) {
                return Err(Status::already_exists(format!(
                    "book `{}` already exists",
                    book.name
                )));
            }
            if let Ok(id) = id.parse::<i64>() {
                entry.next_book = entry.next_book.max(id.saturating_add(1));
            }
        }
        entry.books.push(book.clone());
        Ok(book)
    }

    pub(crate) fn book(&self, name: &str) -> Result<Book, Status> {
        let (shelf, _) = parse_book_name(name)?;
        let entry = self.entry(shelf)?;
        entry
            .books
            .iter()
            .find(|b| b.name == name)
            .cloned()
            .ok_or_else(|| book_not_found(name))
    }

    /// Copies the fields named in `mask` from `patch` onto the stored book; an empty mask copies every
    /// field but the name.
    pub(crate) fn update_book(
        &mut self,
        patch: Option<Book>,
        mask: Option<FieldMask>,
    ) -> Result<Book, Status> {
        let patch = patch.ok_or_else(|| Status::invalid_argument("book is required"))?;
        let paths = mask.map(|m| m.paths).unwrap_or_default();
        if let Some(bad) = paths.iter().find(|p| !UPDATABLE.contains(&p.as_str())) {
            return Err(Status::invalid_argument(format!(
                "update_mask path `{bad}` is not one of {}",
                UPDATABLE.join(", ")
            )));
        }
        let (shelf, _) = parse_book_name(&patch.name)?;
        let entry = self.entry_mut(shelf)?;
        let book = entry
            .books
            .iter_mut()
            .find(|b| b.name == patch.name)
            .ok_or_else(|| book_not_found(&patch.name))?;
        let paths: Vec<&str> = if paths.is_empty() {
            UPDATABLE.to_vec()
        } else {
            paths.iter().map(String::as_str).collect()
        };
        for path in paths {
            copy_field(book, &patch, path);
        }
        Ok(book.clone())
    }

    /// Moves a book to the end of another shelf, where it gets a new name.
    pub(crate) fn move_book(&mut self, name: &str, target: i64) -> Result<Book, Status> {
        let (source, _) = parse_book_name(name)?;
        self.entry(target)?;
        if source == target {
            return self.book(name);
        }
        let books = &mut self.entry_mut(source)?.books;
        let index = books
            .iter()
            .position(|b| b.name == name)
            .ok_or_else(|| book_not_found(name))?;
        let mut book = books.remove(index);
        book.name = String::new();
        self.create_book(target, Some(book))
    }

    fn insert_shelf(&mut self, theme: &str) -> i64 {
        let id = self.next_shelf;
        self.next_shelf += 1;
        let shelf = Shelf {
            id,
            theme: theme.to_string(),
            name: format!("shelves/{id}"),
        };
        self.shelves.insert(
            id,
            ShelfEntry {
                shelf,
                books: Vec::new(),
                next_book: 1,
            },
        );
        id
    }

    fn entry(&self, id: i64) -> Result<&ShelfEntry, Status> {
        self.shelves.get(&id).ok_or_else(|| shelf_not_found(id))
    }

    fn entry_mut(&mut self, id: i64) -> Result<&mut ShelfEntry, Status> {
        self.shelves.get_mut(&id).ok_or_else(|| shelf_not_found(id))
    }
}

/// Splits `shelves/{shelf}/books/{book}` into the shelf id and the book id.
pub(crate) fn parse_book_name(name: &str) -> Result<(i64, &str), Status> {
    let invalid = || {
        Status::invalid_argument(format!(
            "book name `{name}` is not of the form shelves/{{shelf}}/books/{{book}}"
        ))
    };
    match name.split('/').collect::<Vec<_>>().as_slice() {
        ["shelves", shelf, "books", book] if !book.is_empty() => {
            Ok((shelf.parse().map_err(|_| invalid())?, book))
        }
        _ => Err(invalid()),
    }
}

fn shelf_not_found(id: i64) -> Status {
    Status::not_found(format!("shelf {id} not found"))
}

fn book_not_found(name: &str) -> Status {
    Status::not_found(format!("book `{name}` not found"))
}

fn matches(book: &Book, authors: &[String], filter: Option<&BookFilter>) -> bool {
    if !authors.is_empty() && !authors.contains(&book.author) {
        return false;
    }
    let Some(filter) = filter else { return true };
    if filter.genre != Genre::Unspecified as i32 && book.genre != filter.genre {
        return false;
    }
    if filter.min_pages > 0 && book.pages.unwrap_or(0) < filter.min_pages {
        return false;
    }
    match (&filter.published_after, &book.published) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(after), Some(published)) => {
            (published.seconds, published.nanos) > (after.seconds, after.nanos)
        }
    }
}

fn copy_field(book: &mut Book, patch: &Book, path: &str) {
    match path {
        "title" => book.title.clone_from(&patch.title),
        "author" => book.author.clone_from(&patch.author),
        "genre" => book.genre = patch.genre,
        "published" => book.published = patch.published,
        "read_time" => book.read_time = patch.read_time,
        "pages" => book.pages = patch.pages,
        "metadata" => book.metadata.clone_from(&patch.metadata),
        "isbn" => book.isbn = patch.isbn,
        "tags" => book.tags.clone_from(&patch.tags),
        "labels" => book.labels.clone_from(&patch.labels),
        "cover" => book.cover.clone_from(&patch.cover),
        "price" => book.price = patch.price,
        "available" => book.available = patch.available,
        // Paths are checked against `UPDATABLE` before any is applied.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::Timestamp;

    fn list(store: &Store, request: ListBooksRequest) -> Vec<String> {
        let response = store.list_books(&request).expect("lists");
        response.books.into_iter().map(|b| b.title).collect()
    }

    #[test]
    fn seed_matches_the_documented_data() {
        let store = Store::seeded();
        let themes: Vec<_> = store.shelves().into_iter().map(|s| s.theme).collect();
        assert_eq!(themes, ["Fiction", "Science"]);
        assert_eq!(
            store.book("shelves/1/books/1").expect("dune").author,
            "Frank Herbert"
        );
        assert_eq!(
            store.book("shelves/2/books/1").expect("exists").genre,
            Genre::Science as i32
        );
    }

    /// Each case is a request and the titles it must list, in order.
    #[test]
    fn list_books_filters_and_pages() {
        let store = Store::seeded();
        let fiction = |filter: BookFilter| ListBooksRequest {
            shelf: 1,
            filter: Some(filter),
            ..Default::default()
        };
        let cases: Vec<(ListBooksRequest, Vec<&str>)> = vec![
            (
                ListBooksRequest {
                    shelf: 1,
                    ..Default::default()
                },
                vec!["Dune", "The Left Hand of Darkness"],
            ),
            (
                ListBooksRequest {
                    shelf: 1,
                    authors: vec!["Frank Herbert".into()],
                    ..Default::default()
                },
                vec!["Dune"],
            ),
            (
                fiction(BookFilter {
                    min_pages: 400,
                    ..Default::default()
                }),
                vec!["Dune"],
            ),
            (
                fiction(BookFilter {
                    genre: Genre::Science as i32,
                    ..Default::default()
                }),
                vec![],
            ),
            (
                fiction(BookFilter {
                    published_after: Some(Timestamp {
                        seconds: -100_000_000,
                        nanos: 0,
                    }),
                    ..Default::default()
                }),
                vec!["The Left Hand of Darkness"],
            ),
            (
                ListBooksRequest {
                    shelf: 1,
                    page_size: 1,
                    ..Default::default()
                },
                vec!["Dune"],
            ),
            (
                ListBooksRequest {
                    shelf: 1,
                    page_size: 1,
                    page_token: "1".into(),
                    ..Default::default()
                },
                vec!["The Left Hand of Darkness"],
            ),
        ];
        for (request, titles) in cases {
            assert_eq!(list(&store, request.clone()), titles, "{request:?}");
        }
        let first = store.list_books(&ListBooksRequest {
            shelf: 1,
            page_size: 1,
            ..Default::default()
        });
        assert_eq!(first.expect("lists").next_page_token, "1");
    }

    #[test]
    fn errors_carry_the_documented_codes() {
        let mut store = Store::seeded();
        assert_eq!(store.shelf(9).expect_err("missing").code(), Code::NotFound);
        assert_eq!(
            store.book("shelves/1/books/9").expect_err("missing").code(),
            Code::NotFound
        );
        assert_eq!(
            store.book("books/1").expect_err("malformed").code(),
            Code::InvalidArgument
        );
        let duplicate = Book {
            name: "shelves/1/books/1".into(),
            ..Default::default()
        };
        assert_eq!(
            store
                .create_book(1, Some(duplicate))
                .expect_err("dup")
                .code(),
            Code::AlreadyExists
        );
        let empty = store
            .create_shelf(Some(Shelf::default()))
            .expect_err("no theme");
        assert_eq!(empty.code(), Code::InvalidArgument);
        let violations = empty
            .get_error_details()
            .bad_request()
            .map(|b| b.field_violations.clone());
        assert_eq!(
            violations.map(|v| v[0].field.clone()).as_deref(),
            Some("shelf.theme")
        );
    }

    #[test]
    fn new_books_get_the_next_id_and_moves_rename() {
        let mut store = Store::seeded();
        let created = store.create_book(
            1,
            Some(Book {
                title: "Solaris".into(),
                ..Default::default()
            }),
        );
        assert_eq!(created.expect("created").name, "shelves/1/books/3");
        let moved = store.move_book("shelves/1/books/3", 2).expect("moved");
        assert_eq!(moved.name, "shelves/2/books/2");
        assert_eq!(store.book_count(1).expect("exists"), 2);
    }

    #[test]
    fn update_applies_only_the_mask() {
        let mut store = Store::seeded();
        let patch = Book {
            name: "shelves/1/books/1".into(),
            title: "Dune Messiah".into(),
            ..Default::default()
        };
        let mask = FieldMask {
            paths: vec!["title".into()],
        };
        let updated = store
            .update_book(Some(patch.clone()), Some(mask))
            .expect("updated");
        assert_eq!(
            (updated.title.as_str(), updated.author.as_str()),
            ("Dune Messiah", "Frank Herbert")
        );
        let bad = FieldMask {
            paths: vec!["name".into()],
        };
        assert_eq!(
            store
                .update_book(Some(patch), Some(bad))
                .expect_err("bad")
                .code(),
            Code::InvalidArgument
        );
    }
}
