//! PLACEHOLDER: replaced by the family's implementation before anything lands.

use super::{Ctx, Reply};

pub(crate) fn call(ctx: &mut Ctx) -> Reply {
    super::unsupported(ctx)
}
