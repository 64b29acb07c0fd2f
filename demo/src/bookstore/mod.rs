//! `demo.bookstore.v1.Bookstore`: the gRPC face of the in-memory `store::Store`. Each instance owns its own
//! state, so every test server starts from the seed data.

mod seed;
mod store;

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use futures::Stream;
use tonic::{Request, Response, Status};

use crate::pb::bookstore::bookstore_server::{Bookstore, BookstoreServer};
use crate::pb::bookstore::{
    Book, BookMetadata, CreateBookRequest, CreateShelfRequest, DeleteShelfRequest, GetBookRequest,
    GetShelfRequest, ListBooksRequest, ListBooksResponse, ListShelvesResponse, MoveBookRequest,
    Shelf, ShelfEvent, UpdateBookRequest, WatchShelfRequest,
};
use store::Store;

/// Events a `WatchShelf` call sends when the request leaves `count` at zero.
const DEFAULT_WATCH_COUNT: i32 = 3;
/// The pause between `WatchShelf` events when the request leaves `interval_ms` at zero.
const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_millis(100);
/// Bounds a single watch so a typo cannot hold a stream open for hours.
const MAX_WATCH_COUNT: i32 = 1000;

/// The bookstore service over shared in-memory state; clones share the state.
#[derive(Debug, Clone)]
pub struct BookstoreService {
    store: Arc<Mutex<Store>>,
}

impl BookstoreService {
    /// A store holding the seed data: shelf 1 "Fiction" (books 1 "Dune" and 2), shelf 2 "Science" (book 1).
    pub fn seeded() -> Self {
        BookstoreService {
            store: Arc::new(Mutex::new(Store::seeded())),
        }
    }

    pub fn into_server(self) -> BookstoreServer<Self> {
        BookstoreServer::new(self)
    }

    /// The lock is never held across an await; a panic while holding it leaves consistent data, so a
    /// poisoned lock is still usable.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<ShelfEvent, Status>> + Send>>;

#[tonic::async_trait]
impl Bookstore for BookstoreService {
    async fn list_shelves(&self, _: Request<()>) -> Result<Response<ListShelvesResponse>, Status> {
        Ok(Response::new(ListShelvesResponse {
            shelves: self.store().shelves(),
        }))
    }

    async fn create_shelf(
        &self,
        request: Request<CreateShelfRequest>,
    ) -> Result<Response<Shelf>, Status> {
        self.store()
            .create_shelf(request.into_inner().shelf)
            .map(Response::new)
    }

    async fn get_shelf(
        &self,
        request: Request<GetShelfRequest>,
    ) -> Result<Response<Shelf>, Status> {
        self.store()
            .shelf(request.into_inner().shelf)
            .map(Response::new)
    }

    async fn delete_shelf(
        &self,
        request: Request<DeleteShelfRequest>,
    ) -> Result<Response<()>, Status> {
        self.store()
            .delete_shelf(request.into_inner().shelf)
            .map(Response::new)
    }

    async fn list_books(
        &self,
        request: Request<ListBooksRequest>,
    ) -> Result<Response<ListBooksResponse>, Status> {
        self.store()
            .list_books(request.get_ref())
            .map(Response::new)
    }

    async fn create_book(
        &self,
        request: Request<CreateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        let CreateBookRequest { shelf, book } = request.into_inner();
        self.store().create_book(shelf, book).map(Response::new)
    }

    async fn get_book(&self, request: Request<GetBookRequest>) -> Result<Response<Book>, Status> {
        self.store()
            .book(&request.get_ref().name)
            .map(Response::new)
    }

    async fn update_book(
        &self,
        request: Request<UpdateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        let UpdateBookRequest { book, update_mask } = request.into_inner();
        self.store()
            .update_book(book, update_mask)
            .map(Response::new)
    }

    async fn move_book(&self, request: Request<MoveBookRequest>) -> Result<Response<Book>, Status> {
        let MoveBookRequest { name, target_shelf } = request.into_inner();
        self.store()
            .move_book(&name, target_shelf)
            .map(Response::new)
    }

    async fn get_book_metadata(
        &self,
        request: Request<GetBookRequest>,
    ) -> Result<Response<BookMetadata>, Status> {
        let book = self.store().book(&request.get_ref().name)?;
        Ok(Response::new(BookMetadata {
            name: book.name,
            metadata: book.metadata,
            tags: book.tags,
            labels: book.labels,
        }))
    }

    type WatchShelfStream = EventStream;

    /// Sends the first event at once and the rest `interval_ms` apart; each reports the shelf's book count
    /// at that moment. Deleting the shelf mid-stream ends it with NOT_FOUND.
    async fn watch_shelf(
        &self,
        request: Request<WatchShelfRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let WatchShelfRequest {
            shelf,
            count,
            interval_ms,
        } = request.into_inner();
        if count < 0 || interval_ms < 0 {
            return Err(Status::invalid_argument(
                "count and interval_ms must not be negative",
            ));
        }
        self.store().shelf(shelf)?;
        let count = if count == 0 {
            DEFAULT_WATCH_COUNT
        } else {
            count.min(MAX_WATCH_COUNT)
        };
        let interval = match interval_ms {
            0 => DEFAULT_WATCH_INTERVAL,
            ms => Duration::from_millis(ms.unsigned_abs().into()),
        };
        let service = self.clone();
        let events = futures::stream::unfold(1, move |sequence| {
            let service = service.clone();
            async move {
                if sequence > count {
                    return None;
                }
                if sequence > 1 {
                    tokio::time::sleep(interval).await;
                }
                let event = service.store().book_count(shelf).map(|books| ShelfEvent {
                    sequence,
                    shelf,
                    book_count: i32::try_from(books).unwrap_or(i32::MAX),
                    at: Some(SystemTime::now().into()),
                });
                // An error is the last item.
                let next = if event.is_ok() {
                    sequence + 1
                } else {
                    count + 1
                };
                Some((event, next))
            }
        });
        Ok(Response::new(Box::pin(events)))
    }
}
