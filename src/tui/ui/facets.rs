//! The facets panel: the most frequent values of a few fields among the filtered events.

use super::{theme, thousands};
use crate::model::{columns, SymField};
use crate::query::run::facet_value;
use crate::sanitize::{sanitize, truncate_to_width, width};
use crate::tui::state::{Focus, State};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// A principal facet's value as the list shows principals (see
/// [`columns::principal_display`]): the value is an ARN, or a principal's name for events
/// without one, so the identity's type is read off its shape. An ARN's account is added when
/// the facet holds ARNs of more than one account, so that same-named users stay apart. The
/// term that Enter adds uses the value itself.
fn principal_shown(value: &str, several_accounts: bool) -> String {
    if let Some(rest) = value.strip_prefix("arn:") {
        let resource = rest.splitn(5, ':').nth(4).unwrap_or("");
        let kind = if resource == "root" {
            "Root"
        } else if resource.starts_with("user/") {
            "IAMUser"
        } else if resource.starts_with("assumed-role/") {
            "AssumedRole"
        } else if resource.starts_with("federated-user/") {
            "FederatedUser"
        } else {
            ""
        };
        let name = crate::model::record::arn_last_part(value);
        let shown = columns::principal_display(kind, name, "").into_owned();
        return if several_accounts { format!("{shown} · {}", arn_account(value)) } else { shown };
    }
    let kind = if value == "root" {
        "Root"
    } else if value.ends_with(".amazonaws.com") {
        "AWSService"
    } else if value.contains('/') {
        "AssumedRole"
    } else {
        ""
    };
    columns::principal_display(kind, value, "").into_owned()
}

/// The account of an ARN (its fifth part).
fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// Whether a principal facet's ARNs are of more than one account (then each shows its own).
fn several_accounts(facet: &crate::query::run::Facet, store: &crate::model::EventStore) -> bool {
    let mut arns = facet.top.iter().map(|&(s, _)| facet_value(store, s)).filter(|v| v.starts_with("arn:"));
    let first = arns.next().map(arn_account);
    arns.any(|a| Some(arn_account(a)) != first)
}

pub fn draw_facets(frame: &mut Frame, area: Rect, state: &State) {
    let focused = state.focus == Focus::Facets && state.popups.open.is_none();
    let block = Block::bordered()
        .title(Span::styled(" Facets · Enter filters on · - out · + more ", theme::title(focused)))
        .border_style(theme::border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(summary) = &state.facets.summary else {
        frame.render_widget(Paragraph::new(Line::styled("counting…", theme::dim())), inner);
        return;
    };
    let store = state.events.store.read();
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut row = 0;
    for facet in &summary.facets {
        let shown = state.facets.shown_values(facet);
        let more = if facet.distinct > shown {
            format!(
                " · {shown} of {} values{}",
                thousands(facet.distinct),
                if shown < facet.top.len() { " (+ more)" } else { "" }
            )
        } else {
            String::new()
        };
        lines.push(Line::styled(format!("{}{more}", facet.label), theme::header()));
        let several = facet.field == SymField::Principal && !facet.rules && several_accounts(facet, &store);
        for &(sym, n) in &facet.top[..shown] {
            let count = thousands(n as usize);
            let value = if facet.rules {
                store.detections.rules.get(sym as usize).map_or("", |r| r.title.as_str())
            } else {
                facet_value(&store, sym)
            };
            let shown = if value.is_empty() {
                "(none)".into()
            } else if facet.field == SymField::Principal && !facet.rules {
                sanitize(&principal_shown(value, several)).into_owned().into()
            } else {
                sanitize(value)
            };
            let room = w.saturating_sub(width(&count) + 3);
            let text = truncate_to_width(&shown, room).into_owned();
            let pad = w.saturating_sub(width(&text) + width(&count) + 2);
            let mut spans = vec![Span::raw(format!(" {text}{}", " ".repeat(pad))), Span::styled(count, theme::dim())];
            if row == state.facets.sel {
                let st = theme::selected(focused);
                spans = spans.into_iter().map(|s| s.patch_style(st)).collect();
            }
            lines.push(Line::from(spans));
            row += 1;
        }
    }
    let h = inner.height as usize;
    let start = state.facets.first_line(h);
    let visible: Vec<Line> = lines.into_iter().skip(start).take(h).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}
