//! Response bodies that keep running in the request's tenant.
//!
//! A streaming body (a stream, server-sent events) is polled by the server
//! after the handler's future has returned, so outside the `with_schema`
//! scope the layer put around that future: a query inside the stream would
//! run with no tenant. [`TenantBody`] carries the scope's context and the
//! request's span and re-enters both on every poll, so such a query runs in
//! the same tenant (and the same audit span) as the handler did.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use strav_orm::SchemaContext;

pin_project_lite::pin_project! {
    /// The body of a response that went through a Strav layer.
    #[project = Projected]
    pub enum TenantBody<B> {
        /// The inner service's body, polled in `context` and `span`.
        Scoped {
            #[pin]
            inner: B,
            context: Option<SchemaContext>,
            span: tracing::Span,
        },
        /// A refusal answered by the layer itself.
        Refused { body: Option<Bytes> },
    }
}

impl<B> TenantBody<B> {
    pub(crate) fn scoped(inner: B, context: Option<SchemaContext>, span: tracing::Span) -> Self {
        TenantBody::Scoped {
            inner,
            context,
            span,
        }
    }

    pub(crate) fn refused(body: Bytes) -> Self {
        TenantBody::Refused { body: Some(body) }
    }
}

impl<B> Body for TenantBody<B>
where
    B: Body,
    B::Data: From<Bytes>,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project() {
            Projected::Scoped {
                inner,
                context,
                span,
            } => {
                let _entered = span.enter();
                match context {
                    Some(context) => context.sync_scope(|| inner.poll_frame(cx)),
                    None => inner.poll_frame(cx),
                }
            }
            Projected::Refused { body } => {
                Poll::Ready(body.take().map(|b| Ok(Frame::data(B::Data::from(b)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            TenantBody::Scoped { inner, .. } => inner.is_end_stream(),
            TenantBody::Refused { body } => body.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            TenantBody::Scoped { inner, .. } => inner.size_hint(),
            TenantBody::Refused { body } => {
                SizeHint::with_exact(body.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
