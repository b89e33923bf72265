//! The background job: confirming an order, in the tenant that placed it.

use apalis_core::error::BoxDynError;
use apalis_core::task::data::Data;
use serde::{Deserialize, Serialize};
use strav_orm::{Database, Error};

use crate::models::{NewTenantOrderEvent, TenantOrder, TenantOrderEvent, TenantOrderStatus};

/// The queue orders are confirmed from.
pub const QUEUE: &str = "saas_confirm_order";

/// Queued by `POST /orders` in the same transaction as the order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfirmOrder {
    pub order_id: i64,
}

/// Runs inside `with_schema(<the tenant that queued it>)`, set up by
/// `strav_tower::jobs::TenantJobLayer`: the models below reach that
/// tenant's tables and no other.
pub async fn confirm_order(job: ConfirmOrder, db: Data<Database>) -> Result<(), BoxDynError> {
    let db: &Database = &db;
    // Which schema the database itself resolved unqualified names in.
    let ran_in: String = db
        .sql("SELECT current_schema()::text")
        .fetch_scalar()
        .await?;
    db.transaction(async |tx| {
        let Some(mut order) = TenantOrder::find(tx, job.order_id).await? else {
            return Ok::<_, Error>(());
        };
        order.status = TenantOrderStatus::Confirmed;
        order.save(tx).await?;
        TenantOrderEvent::create(
            tx,
            NewTenantOrderEvent {
                order_id: order.id,
                event: "confirmed".into(),
                ran_in,
                ..Default::default()
            },
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(())
}
