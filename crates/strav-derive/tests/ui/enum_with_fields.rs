#[derive(Clone, Copy, strav_orm::Enum)]
#[strav(type_name = "status")]
enum Status {
    Pending,
    Paid(u8),
}

fn main() {}
