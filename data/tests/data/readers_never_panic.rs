//! Property test over every reader: random bytes and random near-valid rows never panic; every failure
//! is a located `DataError`; under `--on-error skip` the events read plus the rows skipped never exceed
//! the lines given.

use cartseq_data::{DataError, Preset, PresetConfig};
use proptest::prelude::*;

use crate::read_all_ways::{generic_columns_1_to_4, read_all_ways, Outcome};

fn configs() -> Vec<PresetConfig> {
    let mut v: Vec<PresetConfig> = Preset::ALL
        .iter()
        .filter(|p| **p != Preset::Generic)
        .map(|p| PresetConfig::new(*p))
        .collect();
    v.push(generic_columns_1_to_4());
    for c in v.iter_mut() {
        c.max_line = 200;
    }
    v
}

fn run_all(bytes: &[u8]) {
    for cfg in configs() {
        read_all_ways(bytes, "p", &cfg, |outcome| match outcome {
            Outcome::Sequences(Ok((db, _))) => {
                for s in db.iter() {
                    assert!(!s.is_empty());
                }
            }
            Outcome::Sequences(Err(DataError::Parse { location, .. })) => {
                assert_eq!(location.file.to_str(), Some("p"))
            }
            Outcome::Sequences(Err(_)) => {}
            Outcome::Events(Ok((log, skipped))) => {
                let n_lines = bytes.split(|b| *b == b'\n').count() as u64;
                assert!(log.len() as u64 + skipped.total() <= n_lines);
            }
            Outcome::Events(Err(_)) => {}
        });
    }
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,6}",
        Just("pv".to_string()),
        Just("cart".to_string()),
        Just("buy".to_string()),
        Just("view".to_string()),
        Just("addtocart".to_string()),
        Just("NA".to_string()),
        Just("".to_string()),
        Just("\"q,\"\"x\"".to_string()),
        Just("\"open".to_string()),
        Just("-1".to_string()),
        Just("-2".to_string()),
        Just("2014-12-06 02".to_string()),
        Just("2016-05-09".to_string()),
        Just("12/1/2010 8:26".to_string()),
        Just("1396437466.94".to_string()),
        Just("2014-04-07T10:51:09.277Z".to_string()),
        Just("C536379".to_string()),
        "[a-zA-Z_:é]{0,5}",
    ]
}

fn row() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(field(), 0..8),
        prop_oneof![Just(','), Just(';'), Just('\t'), Just(' ')],
    )
        .prop_map(|(f, d)| f.join(&d.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        run_all(&bytes);
    }

    #[test]
    fn random_rows_never_panic(
        header in prop_oneof![
            Just(String::new()),
            Just("user_id,item_id,behavior_type,user_geohash,item_category,time".to_string()),
            Just("session_id;user_id;item_id;timeframe;eventdate".to_string()),
            Just("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country".to_string()),
            Just("SessionId\tItemId\tTime".to_string()),
            Just("timestamp,visitorid,event,itemid,transactionid".to_string()),
        ],
        rows in prop::collection::vec(row(), 0..12),
        crlf in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = header;
        for r in rows {
            text.push_str(nl);
            text.push_str(&r);
        }
        run_all(text.as_bytes());
    }
}
