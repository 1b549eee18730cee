//! Trace → Arrow record batches, with the schemas of `docs/trace_schema.md`.

use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema};

use super::{EventColumns, Summary, TraceData};
use crate::execution::Fill;
use crate::portfolio::ClosedTrade;

fn f64_col(v: &[f64]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

fn opt_f64_col(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

fn i64_col(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

fn str_col<'a>(v: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(v.map(Some).collect::<StringArray>())
}

fn opt_str_col<'a>(v: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(v.collect::<StringArray>())
}

fn field(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

/// The map type used for signal metadata: `map<string, string>` as pyarrow spells it.
#[must_use]
pub fn metadata_type() -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(
            vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ]
            .into(),
        ),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

fn metadata_col(v: &[Option<Vec<(String, String)>>]) -> Result<ArrayRef, ArrowError> {
    let names = MapFieldNames {
        entry: "entries".to_string(),
        key: "key".to_string(),
        value: "value".to_string(),
    };
    let mut b = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
    for row in v {
        match row {
            None => b.append(false)?,
            Some(pairs) => {
                for (k, val) in pairs {
                    b.keys().append_value(k);
                    b.values().append_value(val);
                }
                b.append(true)?;
            }
        }
    }
    Ok(Arc::new(b.finish()))
}

/// The events table.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn events_batch(e: &EventColumns) -> Result<RecordBatch, ArrowError> {
    let mut fields = vec![
        field("event_index", DataType::Int64, false),
        field("timestamp", DataType::Int64, false),
        field("timeframe", DataType::Utf8, false),
        field("price_type", DataType::Utf8, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        i64_col(&e.event_index),
        i64_col(&e.timestamp),
        str_col(e.timeframe.iter().map(|t| t.as_str())),
        str_col(e.price_type.iter().map(|p| p.as_str())),
    ];
    for (name, values) in e.indicator_names.iter().zip(&e.indicators) {
        fields.push(field(&format!("ind_{name}"), DataType::Float64, true));
        cols.push(opt_f64_col(values));
    }
    fields.extend([
        field("signal_type", DataType::Utf8, true),
        field("signal_entry_price", DataType::Float64, true),
        field("signal_stop_loss", DataType::Float64, true),
        field("signal_take_profit", DataType::Float64, true),
        field("signal_metadata", metadata_type(), true),
        field("signal_status", DataType::Utf8, true),
        field("exit_requests", DataType::Int64, false),
        field("cash", DataType::Float64, false),
        field("equity", DataType::Float64, false),
        field("realized_pnl", DataType::Float64, false),
        field("unrealized_pnl", DataType::Float64, false),
        field("position_qty", DataType::Float64, false),
        field("avg_price", DataType::Float64, true),
        field("open_positions", DataType::Int64, false),
        field("pending_orders", DataType::Int64, false),
        field("peak_equity", DataType::Float64, false),
        field("drawdown", DataType::Float64, false),
    ]);
    cols.extend([
        opt_str_col(e.signal_type.iter().copied()),
        opt_f64_col(&e.signal_entry_price),
        opt_f64_col(&e.signal_stop_loss),
        opt_f64_col(&e.signal_take_profit),
        metadata_col(&e.signal_metadata)?,
        opt_str_col(e.signal_status.iter().copied()),
        i64_col(&e.exit_requests),
        f64_col(&e.cash),
        f64_col(&e.equity),
        f64_col(&e.realized_pnl),
        f64_col(&e.unrealized_pnl),
        f64_col(&e.position_qty),
        opt_f64_col(&e.avg_price),
        i64_col(&e.open_positions),
        i64_col(&e.pending_orders),
        f64_col(&e.peak_equity),
        f64_col(&e.drawdown),
    ]);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
}

/// The fills table.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn fills_batch(fills: &[Fill]) -> Result<RecordBatch, ArrowError> {
    let ints =
        |f: fn(&Fill) -> i64| -> ArrayRef { Arc::new(fills.iter().map(f).collect::<Int64Array>()) };
    let floats = |f: fn(&Fill) -> f64| -> ArrayRef {
        Arc::new(fills.iter().map(f).collect::<Float64Array>())
    };
    let schema = Schema::new(vec![
        field("event_index", DataType::Int64, false),
        field("timestamp", DataType::Int64, false),
        field("order_id", DataType::Int64, false),
        field("position_id", DataType::Int64, false),
        field("side", DataType::Utf8, false),
        field("reason", DataType::Utf8, false),
        field("quantity", DataType::Float64, false),
        field("fill_price", DataType::Float64, false),
        field("slippage", DataType::Float64, false),
        field("commission", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            ints(|f| f.event_index),
            ints(|f| f.timestamp),
            ints(|f| f.order_id),
            ints(|f| f.position_id),
            str_col(fills.iter().map(|f| f.side)),
            str_col(fills.iter().map(|f| f.reason)),
            floats(|f| f.quantity),
            floats(|f| f.fill_price),
            floats(|f| f.slippage),
            floats(|f| f.commission),
        ],
    )
}

/// The trades table.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn trades_batch(trades: &[ClosedTrade]) -> Result<RecordBatch, ArrowError> {
    let ints = |f: fn(&ClosedTrade) -> i64| -> ArrayRef {
        Arc::new(trades.iter().map(f).collect::<Int64Array>())
    };
    let floats = |f: fn(&ClosedTrade) -> f64| -> ArrayRef {
        Arc::new(trades.iter().map(f).collect::<Float64Array>())
    };
    let schema = Schema::new(vec![
        field("trade_id", DataType::Int64, false),
        field("side", DataType::Utf8, false),
        field("quantity", DataType::Float64, false),
        field("entry_event", DataType::Int64, false),
        field("entry_timestamp", DataType::Int64, false),
        field("entry_price", DataType::Float64, false),
        field("exit_event", DataType::Int64, false),
        field("exit_timestamp", DataType::Int64, false),
        field("exit_price", DataType::Float64, false),
        field("exit_reason", DataType::Utf8, false),
        field("gross_pnl", DataType::Float64, false),
        field("commission", DataType::Float64, false),
        field("net_pnl", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            ints(|t| t.trade_id),
            str_col(trades.iter().map(|t| t.side.as_str())),
            floats(|t| t.quantity),
            ints(|t| t.entry_event),
            ints(|t| t.entry_timestamp),
            floats(|t| t.entry_price),
            ints(|t| t.exit_event),
            ints(|t| t.exit_timestamp),
            floats(|t| t.exit_price),
            str_col(trades.iter().map(|t| t.exit_reason)),
            floats(|t| t.gross_pnl),
            floats(|t| t.commission),
            floats(|t| t.net_pnl),
        ],
    )
}

/// The one-row summary table.
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn summary_batch(s: &Summary) -> Result<RecordBatch, ArrowError> {
    let schema = Schema::new(vec![
        field("strategy", DataType::Utf8, false),
        field("seed", DataType::Int64, false),
        field("events", DataType::Int64, false),
        field("initial_cash", DataType::Float64, false),
        field("final_equity", DataType::Float64, false),
        field("total_return", DataType::Float64, false),
        field("max_drawdown", DataType::Float64, false),
        field("trade_count", DataType::Int64, false),
        field("win_rate", DataType::Float64, true),
        field("sharpe", DataType::Float64, true),
        field("fill_count", DataType::Int64, false),
        field("cancelled_orders", DataType::Int64, false),
        field("open_positions", DataType::Int64, false),
        field("realized_pnl", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            str_col(std::iter::once(s.strategy.as_str())),
            i64_col(&[s.seed]),
            i64_col(&[s.events]),
            f64_col(&[s.initial_cash]),
            f64_col(&[s.final_equity]),
            f64_col(&[s.total_return]),
            f64_col(&[s.max_drawdown]),
            i64_col(&[s.trade_count]),
            opt_f64_col(&[s.win_rate]),
            opt_f64_col(&[s.sharpe]),
            i64_col(&[s.fill_count]),
            i64_col(&[s.cancelled_orders]),
            i64_col(&[s.open_positions]),
            f64_col(&[s.realized_pnl]),
        ],
    )
}

/// All four tables: (events, fills, trades, summary).
///
/// # Errors
/// Arrow errors (only on internal inconsistency).
pub fn trace_batches(
    t: &TraceData,
) -> Result<(RecordBatch, RecordBatch, RecordBatch, RecordBatch), ArrowError> {
    Ok((
        events_batch(&t.events)?,
        fills_batch(&t.fills)?,
        trades_batch(&t.trades)?,
        summary_batch(&t.summary)?,
    ))
}
