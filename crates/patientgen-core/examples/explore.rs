use patientgen_core::{Generator, ScenarioConfig, SummaryBuilder, data::catalog, scenario::ValidationOptions, summary::PatientFacts};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let preset = args.get(1).map(String::as_str).unwrap_or("default");
    let n: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let cat = catalog();
    let p = cat.presets.get(preset).expect("preset");
    let mut cfg: ScenarioConfig = cat.presets.config_for(p);
    cfg.total_patients = Some(n.into());
    cfg.seed = Some(42);
    let sc = cfg.validate(cat, ValidationOptions::default()).expect("valid");
    let g = Generator::new(&sc);
    let mut b = SummaryBuilder::default();
    let t = std::time::Instant::now();
    let mut first = None;
    for slot in g.plan() {
        let pt = g.patient(&slot);
        b.add(&PatientFacts::of(&pt));
        if first.is_none() && pt.injury_type == patientgen_core::model::InjuryType::BattleInjury && pt.movement_timeline.len() > 6 { first = Some(serde_json::to_string_pretty(&pt).unwrap()); }
    }
    eprintln!("{:?}", t.elapsed());
    println!("{}", first.unwrap_or_default());
    println!("{}", b.build());
}
