//! Every preset on real sample rows (RetailRocket on rows written here: no file of it is public in our
//! corpus), checked against counts computed directly from the raw text; gzip and stdin input; the
//! generic preset by column name and by number.

use std::collections::HashSet;

use crate::support::{cartseq, gzip, stats_json, temp_file};

fn data_lines(path: &str, header: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(usize::from(header))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

fn action_count(j: &serde_json::Value, action: &str) -> u64 {
    j["log"]["per_action"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == action)
        .map_or(0, |a| a["events"].as_u64().unwrap())
}

#[test]
fn taobao() {
    let p = "data/samples/taobao_sample.csv";
    let rows = data_lines(p, false);
    let j = stats_json(p, "--preset taobao");
    assert_eq!(j["log"]["events"], rows.len() as u64);
    let carts = rows
        .iter()
        .filter(|r| r.split(',').nth(3) == Some("cart"))
        .count() as u64;
    assert_eq!(action_count(&j, "cart_add"), carts);
}

#[test]
fn yoochoose_prepared_tsv() {
    for p in [
        "data/samples/yoochoose_train_tr_sample.txt",
        "data/samples/yoochoose_valid_sample.txt",
    ] {
        let rows = data_lines(p, true);
        let sessions: HashSet<&str> = rows.iter().map(|r| r.split('\t').next().unwrap()).collect();
        let j = stats_json(p, "--preset yoochoose --by session");
        assert_eq!(j["log"]["events"], rows.len() as u64);
        assert_eq!(j["log"]["sessions"], sessions.len() as u64);
        assert_eq!(j["sequences"]["sequences"], sessions.len() as u64);
        assert_eq!(action_count(&j, "view"), rows.len() as u64);
    }
}

#[test]
fn yoochoose_raw_clicks_and_buys() {
    // The raw RecSys 2015 layout: clicks have 4 fields, buys 5; a concatenation of both works.
    let (_dir, p) = temp_file(
        "yoochoose.dat",
        "1,2014-04-07T10:51:09.277Z,214536502,0\n\
         1,2014-04-07T10:54:09.868Z,214536500,S\n\
         2,2014-04-07T13:56:37.614Z,214662742,0\n\
         420374,2014-04-06T18:44:58.314Z,214537888,12462,1\n\
         420374,2014-04-06T18:44:58.325Z,214537850,10471,1\n",
    );
    let j = stats_json(&p, "--preset yoochoose");
    assert_eq!(j["log"]["events"], 5);
    assert_eq!(action_count(&j, "view"), 3);
    assert_eq!(action_count(&j, "buy"), 2);
    assert_eq!(j["log"]["categories"], 1); // "0" means unknown; "S" (special offer) is kept
    assert_eq!(j["log"]["first_time"], "2014-04-06T18:44:58Z");
}

#[test]
fn diginetica() {
    let p = "data/samples/diginetica_sample.csv";
    let rows = data_lines(p, true);
    let sessions: HashSet<&str> = rows.iter().map(|r| r.split(';').next().unwrap()).collect();
    let j = stats_json(p, "--preset diginetica --by session");
    assert_eq!(j["log"]["events"], rows.len() as u64);
    assert_eq!(j["sequences"]["sequences"], sessions.len() as u64);
    // The original spelling of the header works too.
    let (_dir, q) = temp_file(
        "views.csv",
        "sessionId;userId;itemId;timeframe;eventdate\r\n1;NA;81766;526309;2016-05-09\r\n1;NA;31331;1031018;2016-05-09\r\n",
    );
    let j = stats_json(&q, "--preset diginetica --by session --itemset single");
    assert_eq!(j["log"]["events"], 2);
    assert_eq!(j["sequences"]["itemsets"], 2);
    assert_eq!(j["log"]["first_time"], "2016-05-09T00:08:46Z"); // date + 526309 ms
}

#[test]
fn online_retail() {
    let p = "data/samples/online_retail_sample.csv";
    let text = std::fs::read_to_string(p).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut n = 0u64;
    let mut returns = 0u64;
    let mut invoices = HashSet::new();
    for r in rdr.records() {
        let r = r.unwrap();
        n += 1;
        let q: f64 = r[3].parse().unwrap();
        if r[0].starts_with('C') || q < 0.0 {
            returns += 1;
        }
        invoices.insert(r[0].to_string());
    }
    let j = stats_json(p, "--preset online-retail");
    assert_eq!(j["log"]["events"], n);
    assert_eq!(action_count(&j, "return"), returns);
    assert_eq!(action_count(&j, "buy"), n - returns);
    assert_eq!(j["log"]["sessions"], invoices.len() as u64);
    assert_eq!(j["log"]["first_time"], "2010-12-01T08:26:00Z");
    // One basket per invoice.
    let j = stats_json(p, "--preset online-retail --by session");
    assert_eq!(j["sequences"]["sequences"], invoices.len() as u64);
}

#[test]
fn online_retail_cleaned_variant() {
    // ISO dates, float CustomerID and extra columns (the 10k cleaned sample's layout).
    let (_dir, p) = temp_file(
        "r.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country,Revenue,Month\n\
         536365,85123A,\"WHITE HANGING HEART, T-LIGHT HOLDER\",6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom,15.3,12\n\
         C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom,-27.5,12\n\
         536380,22961,JAM MAKING SET PRINTED,24,2010-12-01 09:41:00,1.45,,United Kingdom,34.8,12\n",
    );
    let j = stats_json(&p, "--preset online-retail");
    assert_eq!(j["log"]["events"], 3);
    assert_eq!(j["log"]["users"], 3); // 17850, 14527 and the guest of invoice 536380
    assert_eq!(action_count(&j, "return"), 1);
}

#[test]
fn tianchi_mobile() {
    let p = "data/samples/tianchi_mobile_sample.csv";
    let rows = data_lines(p, true);
    let count = |b: &str| {
        rows.iter()
            .filter(|r| r.split(',').nth(2) == Some(b))
            .count() as u64
    };
    let j = stats_json(p, "--preset tianchi-mobile");
    assert_eq!(j["log"]["events"], rows.len() as u64);
    assert_eq!(action_count(&j, "view"), count("1"));
    assert_eq!(action_count(&j, "fav"), count("2"));
    assert_eq!(action_count(&j, "cart_add"), count("3"));
    assert_eq!(action_count(&j, "buy"), count("4"));
}

#[test]
fn retailrocket_rows() {
    let (_dir, p) = temp_file(
        "events.csv",
        "timestamp,visitorid,event,itemid,transactionid\n\
         1433221332117,257597,view,355908,\n\
         1433224214164,992329,view,248676,\n\
         1433221999827,111016,view,318965,\n\
         1433221955914,483717,addtocart,253185,\n\
         1433222147345,483717,transaction,253185,4000\n",
    );
    let j = stats_json(&p, "--preset retailrocket");
    assert_eq!(j["log"]["events"], 5);
    assert_eq!(j["log"]["users"], 4);
    assert_eq!(action_count(&j, "cart_add"), 1);
    assert_eq!(action_count(&j, "buy"), 1);
    assert_eq!(j["log"]["funnel"]["cart_to_buy"], 1.0);
    assert_eq!(j["log"]["first_time"], "2015-06-02T05:02:12Z");
}

#[test]
fn generic_by_name_and_by_number() {
    let (dir, p) = temp_file(
        "g.tsv",
        "when\twho\twhat\tdid\n2020-01-01T10:00:00\talice\tbook\tview\n2020-01-01T10:05:00\talice\tbook\tadd_to_cart\n2020-01-01T10:09:00\talice\tbook\tpurchase\n2020-01-02 08:00\tbob\tpen\tshare\n",
    );
    let by_name = stats_json(
        &p,
        "--user-col who --item-col what --action-col did --time-col when --delimiter tab",
    );
    let by_number = stats_json(
        &p,
        "--preset generic --user-col 2 --item-col 3 --action-col 4 --time-col 1 --delimiter \\t",
    );
    for j in [&by_name, &by_number] {
        assert_eq!(j["log"]["events"], 4);
        assert_eq!(action_count(j, "cart_add"), 1);
        assert_eq!(action_count(j, "buy"), 1);
        assert_eq!(action_count(j, "share"), 1); // custom action kept as written
        assert_eq!(j["log"]["funnel"]["carted_never_bought"], 0);
    }
    // A pattern time format.
    let q = dir.path().join("g.csv");
    std::fs::write(&q, "1,x,12/1/2010 8:26\n1,y,12/1/2010 9:26\n").unwrap();
    let j = cartseq("stats --no-header --user-col 1 --item-col 2 --time-col 3 --json")
        .arg(&q)
        .args(["--time-format", "%m/%d/%Y %H:%M"])
        .json();
    assert_eq!(j["log"]["last_time"], "2010-12-01T09:26:00Z");
}

#[test]
fn basket_and_spmf() {
    let p = "data/samples/retail_basket_sample.txt";
    let rows = data_lines(p, false);
    let items: HashSet<&str> = rows.iter().flat_map(|r| r.split_whitespace()).collect();
    let j = stats_json(p, "--preset basket");
    assert_eq!(j["sequences"]["sequences"], rows.len() as u64);
    assert_eq!(j["sequences"]["distinct_tokens"], items.len() as u64);
    assert!(j["log"].is_null());

    let p = "data/samples/contextPrefixSpan.txt";
    let j = stats_json(p, "--preset spmf");
    assert_eq!(j["sequences"]["sequences"], 4);
    assert_eq!(j["sequences"]["distinct_tokens"], 7);
    // The preset is recognised without --preset too.
    let j = stats_json("data/samples/SIGN.txt", "");
    assert_eq!(j["sequences"]["sequences"], 730);
}

#[test]
fn gzip_and_stdin_work_for_a_preset() {
    let p = "data/samples/tianchi_mobile_sample.csv";
    let raw = std::fs::read(p).unwrap();
    let (_dir, gz) = temp_file("t.csv.gz", gzip(&raw));
    let plain = stats_json(p, "--preset tianchi-mobile");
    let zipped = stats_json(&gz, "--preset tianchi-mobile");
    assert_eq!(plain["log"], zipped["log"]);

    let piped = cartseq("stats - --preset tianchi-mobile --json")
        .stdin(raw)
        .json();
    assert_eq!(plain["log"], piped["log"]);
    assert_eq!(piped["input"], "-");
}
