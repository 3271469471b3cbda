//! The order workflow (design.md §4) as a pure transition table. Every mutation asks
//! [`next`] and then applies the move as a compare-and-set in one transaction.
//!
//! ```text
//! UNPUSHED --setChannel--> UNPUSHED            (also PUSH_FAILED --setChannel--> PUSH_FAILED)
//! UNPUSHED|PUSH_FAILED --push--> PUSHING --ok--> PUSHED --markShipped(writeBack?)--> SHIPPED
//!                                        --err--> PUSH_FAILED (message kept; waybill UNCONFIRMED)
//! PUSHED --reset--> UNPUSHED (provider waybill cancelled)
//! UNPUSHED|PUSH_FAILED|PUSHING|PUSHED --cancel--> CANCELLED
//! ```

use entity::enums::FulfillmentStatus::{self, *};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SetChannel,
    Push,
    /// The provider booked the forecast.
    PushSucceeded,
    /// Validation or the provider refused it.
    PushFailed,
    Reset,
    MarkShipped,
    Cancel,
}

pub const ACTIONS: [Action; 7] = [
    Action::SetChannel,
    Action::Push,
    Action::PushSucceeded,
    Action::PushFailed,
    Action::Reset,
    Action::MarkShipped,
    Action::Cancel,
];

pub const STATES: [FulfillmentStatus; 6] = [Unpushed, Pushing, Pushed, PushFailed, Shipped, Cancelled];

/// The state after `action` from `from`, or `None` when the move is not allowed.
pub fn next(from: FulfillmentStatus, action: Action) -> Option<FulfillmentStatus> {
    match (action, from) {
        (Action::SetChannel, Unpushed | PushFailed) => Some(from),
        (Action::Push, Unpushed | PushFailed) => Some(Pushing),
        // Validation failures happen before PUSHING; provider outcomes after it.
        (Action::PushFailed, Unpushed | PushFailed | Pushing) => Some(PushFailed),
        (Action::PushSucceeded, Pushing) => Some(Pushed),
        (Action::Reset, Pushed) => Some(Unpushed),
        (Action::MarkShipped, Pushed) => Some(Shipped),
        // From PUSHING too: a warehouse order waiting for its tracking number can be
        // withdrawn (the provider is told first); a NETWORK push job skips cancelled orders.
        (Action::Cancel, Unpushed | PushFailed | Pushing | Pushed) => Some(Cancelled),
        _ => None,
    }
}

/// The statuses an action may start from (for guarded `UPDATE … WHERE status IN (…)`).
pub fn sources(action: Action) -> Vec<FulfillmentStatus> {
    STATES.into_iter().filter(|s| next(*s, action).is_some()).collect()
}

/// Why a move is refused, for the per-order `INVALID_STATE` message.
pub fn refusal(from: FulfillmentStatus, action: Action) -> String {
    let hint = match (action, from) {
        (_, Pushing) => "a push is in progress; wait for its result",
        (Action::Push | Action::SetChannel, Pushed) => "it is already pushed; reset it first",
        (_, Shipped) => "it has shipped",
        (_, Cancelled) => "it is cancelled",
        (Action::Reset | Action::MarkShipped, Unpushed | PushFailed) => "it has not been pushed",
        _ => "not allowed from this state",
    };
    format!("The order is {}: {hint}.", name(from))
}

pub fn name(s: FulfillmentStatus) -> &'static str {
    match s {
        Unpushed => "UNPUSHED",
        Pushing => "PUSHING",
        Pushed => "PUSHED",
        PushFailed => "PUSH_FAILED",
        Shipped => "SHIPPED",
        Cancelled => "CANCELLED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (state, action) pair, allowed or refused: the whole table, spelled out.
    #[test]
    fn transition_table() {
        use Action as A;
        let expected: &[(FulfillmentStatus, A, Option<FulfillmentStatus>)] = &[
            (Unpushed, A::SetChannel, Some(Unpushed)),
            (Unpushed, A::Push, Some(Pushing)),
            (Unpushed, A::PushSucceeded, None),
            (Unpushed, A::PushFailed, Some(PushFailed)),
            (Unpushed, A::Reset, None),
            (Unpushed, A::MarkShipped, None),
            (Unpushed, A::Cancel, Some(Cancelled)),
            (Pushing, A::SetChannel, None),
            (Pushing, A::Push, None),
            (Pushing, A::PushSucceeded, Some(Pushed)),
            (Pushing, A::PushFailed, Some(PushFailed)),
            (Pushing, A::Reset, None),
            (Pushing, A::MarkShipped, None),
            (Pushing, A::Cancel, Some(Cancelled)),
            (Pushed, A::SetChannel, None),
            (Pushed, A::Push, None),
            (Pushed, A::PushSucceeded, None),
            (Pushed, A::PushFailed, None),
            (Pushed, A::Reset, Some(Unpushed)),
            (Pushed, A::MarkShipped, Some(Shipped)),
            (Pushed, A::Cancel, Some(Cancelled)),
            (PushFailed, A::SetChannel, Some(PushFailed)),
            (PushFailed, A::Push, Some(Pushing)),
            (PushFailed, A::PushSucceeded, None),
            (PushFailed, A::PushFailed, Some(PushFailed)),
            (PushFailed, A::Reset, None),
            (PushFailed, A::MarkShipped, None),
            (PushFailed, A::Cancel, Some(Cancelled)),
            (Shipped, A::SetChannel, None),
            (Shipped, A::Push, None),
            (Shipped, A::PushSucceeded, None),
            (Shipped, A::PushFailed, None),
            (Shipped, A::Reset, None),
            (Shipped, A::MarkShipped, None),
            (Shipped, A::Cancel, None),
            (Cancelled, A::SetChannel, None),
            (Cancelled, A::Push, None),
            (Cancelled, A::PushSucceeded, None),
            (Cancelled, A::PushFailed, None),
            (Cancelled, A::Reset, None),
            (Cancelled, A::MarkShipped, None),
            (Cancelled, A::Cancel, None),
        ];
        assert_eq!(expected.len(), STATES.len() * ACTIONS.len(), "every pair listed");
        for (from, action, to) in expected {
            assert_eq!(next(*from, *action), *to, "{from:?} --{action:?}-->");
        }
        assert_eq!(sources(A::Cancel), [Unpushed, Pushing, Pushed, PushFailed]);
        assert!(refusal(Shipped, A::Reset).contains("SHIPPED"));
    }
}
