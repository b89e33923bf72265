//! Tenant routes: every handler runs inside the request's tenant scope,
//! so the models reach that tenant's tables only.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use strav_orm::{current_schema, Database};
use strav_tower::{jobs, Tenant};

use super::ApiError;
use crate::jobs::{ConfirmOrder, QUEUE};
use crate::models::{NewTenantOrder, TenantOrder, TenantOrderEvent, TenantOrderStatus};
use crate::AppState;

/// An order as the API shows it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct OrderView {
    pub id: i64,
    pub customer: String,
    pub total_cents: i64,
    pub status: String,
    /// The tenant that served the request.
    pub tenant: String,
}

impl OrderView {
    fn new(order: TenantOrder, tenant: &str) -> Self {
        OrderView {
            id: order.id,
            customer: order.customer,
            total_cents: order.total_cents,
            status: match order.status {
                TenantOrderStatus::Pending => "pending",
                TenantOrderStatus::Confirmed => "confirmed",
            }
            .into(),
            tenant: tenant.to_owned(),
        }
    }
}

/// The body of `POST /orders`.
#[derive(Debug, Deserialize, Serialize)]
pub struct NewOrder {
    pub customer: String,
    pub total_cents: i64,
}

/// `GET /orders`: the newest 100.
pub async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let orders = TenantOrder::query()
        .order_by(TenantOrder::ID.desc())
        .limit(100)
        .all(&app.db)
        .await?;
    Ok(Json(
        orders
            .into_iter()
            .map(|o| OrderView::new(o, tenant.as_str()))
            .collect(),
    ))
}

/// `GET /orders/{id}`.
pub async fn show(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<i64>,
) -> Result<Json<OrderView>, ApiError> {
    let order = TenantOrder::find(&app.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no order {id}")))?;
    Ok(Json(OrderView::new(order, tenant.as_str())))
}

/// `POST /orders`: the order and its confirmation job, in one transaction.
pub async fn create(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Json(new): Json<NewOrder>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    if new.customer.trim().is_empty() {
        return Err(ApiError::BadRequest("customer must not be empty".into()));
    }
    let order = app
        .db
        .transaction(async |tx| {
            let order = TenantOrder::create(
                tx,
                NewTenantOrder {
                    customer: new.customer,
                    total_cents: new.total_cents,
                    ..Default::default()
                },
            )
            .await?;
            // Records the transaction's tenant on the job.
            jobs::enqueue(tx, QUEUE, &ConfirmOrder { order_id: order.id }).await?;
            Ok::<_, ApiError>(order)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrderView::new(order, tenant.as_str())),
    ))
}

/// What the job wrote about an order.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventView {
    pub event: String,
    /// The schema the job's statements ran in.
    pub ran_in: String,
}

/// `GET /orders/{id}/events`.
pub async fn events(
    State(app): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    let events = TenantOrderEvent::query()
        .filter(TenantOrderEvent::ORDER_ID.eq(id))
        .order_by(TenantOrderEvent::ID.asc())
        .all(&app.db)
        .await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| EventView {
                event: e.event,
                ran_in: e.ran_in,
            })
            .collect(),
    ))
}

/// `GET /orders/export`: every order as JSON lines, read page by page
/// *while the body streams*, after this handler has returned. The pages
/// are queried in the request's tenant because the layer's `TenantBody`
/// re-enters the scope on every poll.
pub async fn export(State(app): State<AppState>) -> Body {
    let pages = stream::unfold(Some((app.db, 0_i64)), |state| async move {
        let (db, after) = state?;
        let page = next_page(&db, after).await;
        match page {
            Ok(orders) if orders.is_empty() => None,
            Ok(orders) => {
                let last = orders.last().map_or(after, |o| o.id);
                let tenant = current_schema().map(|s| s.to_string()).unwrap_or_default();
                let mut lines = String::new();
                for order in orders {
                    lines.push_str(
                        &serde_json::to_string(&OrderView::new(order, &tenant)).unwrap_or_default(),
                    );
                    lines.push('\n');
                }
                Some((Ok::<_, strav_orm::Error>(lines), Some((db, last))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(pages.map(|r| r.map(axum::body::Bytes::from)))
}

async fn next_page(db: &Database, after: i64) -> strav_orm::Result<Vec<TenantOrder>> {
    TenantOrder::query()
        .filter(TenantOrder::ID.gt(after))
        .order_by(TenantOrder::ID.asc())
        .limit(25)
        .all(db)
        .await
}
