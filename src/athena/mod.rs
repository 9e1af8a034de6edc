//! Athena for archives that outgrow one machine: the `CREATE EXTERNAL TABLE` for a trail's
//! archive ([`ddl`]) and the filter language compiled to SQL over it ([`sql`]), printed by
//! `trailscope athena ddl` and `trailscope athena sql`, and asked by the `--athena` source.

pub mod ddl;
pub mod sql;
