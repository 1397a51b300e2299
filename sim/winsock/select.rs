//! Event selection: `WSAEventSelect`, `WSAAsyncSelect`, `WSAEnumNetworkEvents`.
//!
//! - Both selections set the socket's [`IoMode`] through one setter
//!   ([`Host::set_io_mode`]) and make the socket non-blocking, whatever the mask
//!   (reference, FIONBIO; Microsoft's WSAEventSelect page). A mask of 0 clears the
//!   selection and leaves the socket non-blocking. A new selection replaces the old
//!   one, event or message.
//! - Network events are recorded per socket (`SocketState::recorded`, see
//!   `Host::note_event`) and signal the selected event or post one message per event.
//!   Re-selecting while events are recorded signals (or posts) at once for those the
//!   new mask selects (issue "Overlapped": conditions already true are reported).
//! - FD_ROUTING_INTERFACE_CHANGE and FD_ADDRESS_LIST_CHANGE are recorded only for a
//!   socket whose non-blocking change request armed them (observations W105, W106; the
//!   host-change side is in `changes`).
//! - `WSAEnumNetworkEvents` reports the recorded events the current selection selects
//!   (every recorded event when no selection is active), clears what it reported and
//!   resets the given event. Choice (no evidence): reporting is filtered by the
//!   current mask; the model records no per-event errors, so every iErrorCode is 0.

use crate::errors::ErrorCode;
use crate::model::socket::NetworkEvents;
use crate::model::{Event, Host, IoMode, Socket};
use crate::winsock::asyncio::NetworkEventsReport;
use crate::winsock::SockResult;

impl Host {
    /// Sets a socket's blocking/selection mode through `SocketState::set_mode`, the one
    /// setter of the mode (nothing happens for a socket that is not open).
    pub(crate) fn set_io_mode(&mut self, s: Socket, mode: IoMode) {
        if let Some(st) = self.sockets.get_mut(&s) {
            st.set_mode(mode);
        }
    }

    /// `WSAEventSelect`: network events in `events` signal `ev`. An unknown socket:
    /// WSAENOTSOCK; an unknown event: WSAEINVAL ("one of the specified parameters was
    /// invalid").
    pub fn wsa_event_select(&mut self, s: Socket, ev: Event, events: NetworkEvents) -> SockResult {
        let r = if !self.sockets.contains_key(&s) {
            SockResult::err(ErrorCode::WSAENOTSOCK)
        } else if !events.is_empty() && !self.asyncs.events.contains_key(&ev) {
            SockResult::err(ErrorCode::WSAEINVAL)
        } else if events.is_empty() {
            self.set_io_mode(s, IoMode::NonBlocking);
            SockResult::ok(0)
        } else {
            self.set_io_mode(
                s,
                IoMode::EventSelect {
                    event: ev,
                    mask: events,
                },
            );
            let recorded = self.sockets[&s].recorded;
            if !(recorded & events).is_empty() {
                self.signal_event(ev);
            }
            SockResult::ok(0)
        };
        self.record(r)
    }

    /// `WSAAsyncSelect`: network events in `events` post `message` to `window`.
    /// Window handles are not modelled: any value is accepted.
    pub fn wsa_async_select(
        &mut self,
        s: Socket,
        window: u64,
        message: u32,
        events: NetworkEvents,
    ) -> SockResult {
        if !self.sockets.contains_key(&s) {
            return self.record(SockResult::err(ErrorCode::WSAENOTSOCK));
        }
        if events.is_empty() {
            self.set_io_mode(s, IoMode::NonBlocking);
            return SockResult::ok(0);
        }
        self.set_io_mode(
            s,
            IoMode::AsyncSelect {
                window,
                message,
                mask: events,
            },
        );
        let recorded = self.sockets[&s].recorded & events;
        if !recorded.is_empty() {
            self.post_messages(s, window, message, recorded);
        }
        SockResult::ok(0)
    }

    /// `WSAEnumNetworkEvents`: the recorded events, cleared as they are read; `ev`, if
    /// given, is reset. Errors: WSAENOTSOCK, or WSAEINVAL for an unknown event.
    pub fn wsa_enum_network_events(
        &mut self,
        s: Socket,
        ev: Option<Event>,
    ) -> Result<NetworkEventsReport, ErrorCode> {
        let r = match self.sockets.get(&s) {
            None => Err(ErrorCode::WSAENOTSOCK),
            Some(_) if ev.is_some_and(|e| !self.asyncs.events.contains_key(&e)) => {
                Err(ErrorCode::WSAEINVAL)
            }
            Some(st) => {
                let mask = match st.mode {
                    IoMode::EventSelect { mask, .. } | IoMode::AsyncSelect { mask, .. } => mask,
                    IoMode::Blocking | IoMode::NonBlocking => NetworkEvents(u32::MAX),
                };
                let events = st.recorded & mask;
                let st = self.sockets.get_mut(&s).expect("checked above");
                st.recorded = st.recorded.without(events);
                if let Some(e) = ev {
                    self.wsa_reset_event(e);
                }
                Ok(NetworkEventsReport {
                    events,
                    errors: [ErrorCode::NO_ERROR; 10],
                })
            }
        };
        if let Err(e) = r {
            self.last_error = e;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AddressFamily, SocketType};

    fn tcp(h: &mut Host) -> Socket {
        h.socket_default(AddressFamily::Inet, SocketType::Stream)
            .unwrap()
    }

    #[test]
    fn event_select_makes_the_socket_non_blocking_and_mask_zero_keeps_it_so() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        let ev = h.wsa_create_event();
        assert_eq!(h.wsa_event_select(s, ev, NetworkEvents::READ).result, 0);
        assert_eq!(
            h.socket(s).unwrap().mode,
            IoMode::EventSelect {
                event: ev,
                mask: NetworkEvents::READ
            }
        );
        h.wsa_event_select(s, ev, NetworkEvents::NONE);
        assert_eq!(h.socket(s).unwrap().mode, IoMode::NonBlocking);
    }

    #[test]
    fn a_selected_event_is_signaled_when_data_arrives() {
        let mut h = Host::default_host();
        let (c, srv) = h.pair(AddressFamily::Inet, SocketType::Stream).unwrap();
        let ev = h.wsa_create_event();
        h.wsa_event_select(srv, ev, NetworkEvents::READ);
        assert!(!h.event_signaled(ev));
        h.send(c, b"hi", Default::default());
        assert!(h.event_signaled(ev));
        let r = h.wsa_enum_network_events(srv, Some(ev)).unwrap();
        assert_eq!(r.events, NetworkEvents::READ);
        assert!(!h.event_signaled(ev), "enumerating resets the event");
        let r = h.wsa_enum_network_events(srv, None).unwrap();
        assert_eq!(
            r.events,
            NetworkEvents::NONE,
            "enumerating clears the record"
        );
    }

    #[test]
    fn reselecting_with_recorded_events_signals_at_once() {
        let mut h = Host::default_host();
        let (c, srv) = h.pair(AddressFamily::Inet, SocketType::Stream).unwrap();
        h.send(c, b"x", Default::default());
        let ev = h.wsa_create_event();
        h.wsa_event_select(srv, ev, NetworkEvents::WRITE);
        assert!(!h.event_signaled(ev), "READ is recorded but not selected");
        h.wsa_event_select(srv, ev, NetworkEvents::READ);
        assert!(h.event_signaled(ev));
    }

    #[test]
    fn async_select_posts_one_message_per_event() {
        let mut h = Host::default_host();
        let (c, srv) = h.pair(AddressFamily::Inet, SocketType::Stream).unwrap();
        h.wsa_async_select(srv, 77, 0x400, NetworkEvents::READ | NetworkEvents::CLOSE);
        h.send(c, b"x", Default::default());
        h.closesocket(c);
        let m: Vec<_> = h
            .posted_messages()
            .iter()
            .map(|m| (m.window, m.event))
            .collect();
        assert_eq!(
            m,
            [(77, NetworkEvents::READ.0), (77, NetworkEvents::CLOSE.0)]
        );
    }

    #[test]
    fn selecting_with_an_unknown_event_or_socket_fails() {
        let mut h = Host::default_host();
        let s = tcp(&mut h);
        assert_eq!(
            h.wsa_event_select(s, Event(3), NetworkEvents::READ).error,
            ErrorCode::WSAEINVAL
        );
        let ev = h.wsa_create_event();
        assert_eq!(
            h.wsa_event_select(Socket(3), ev, NetworkEvents::READ).error,
            ErrorCode::WSAENOTSOCK
        );
        assert_eq!(
            h.wsa_enum_network_events(Socket(3), None),
            Err(ErrorCode::WSAENOTSOCK)
        );
    }
}
