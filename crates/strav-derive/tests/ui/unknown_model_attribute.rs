#[derive(strav_orm::Model)]
#[strav(tabel = "orders", domain = "tenant")]
struct Order {
    #[strav(primary_key)]
    id: i64,
}

fn main() {}
