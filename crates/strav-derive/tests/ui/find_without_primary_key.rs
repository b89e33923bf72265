#[derive(strav_orm::Model)]
#[strav(table = "events", no_primary_key)]
struct Event {
    name: String,
}

async fn lookup(db: &strav_orm::Database) {
    let _ = Event::find(db, 1).await;
}

fn main() {}
