//! PRODUCT.md §3.6: on 100,000 patients of the default preset, outcomes fall in
//! the published ranges, every facility is used and no timeline goes backwards.

mod common;

use patientgen_core::model::{Outcome, Role};
use patientgen_core::patient::EventType;
use patientgen_core::summary::PatientFacts;
use patientgen_core::{Generator, SummaryBuilder};

#[test]
fn default_preset_meets_calibration_targets_on_100k_patients() {
    let scenario = common::preset("default", 100_000, 20_251_125);
    let generator = Generator::new(&scenario);
    let mut summary = SummaryBuilder::default();
    let mut count = 0;
    for slot in generator.plan() {
        let p = generator.patient(&slot);
        count += 1;
        // Timelines: non-negative, non-decreasing, one terminal event at the end.
        let t = &p.movement_timeline;
        assert!(
            t.windows(2)
                .all(|w| w[0].hours_since_injury <= w[1].hours_since_injury
                    && w[0].timestamp <= w[1].timestamp),
            "patient {} goes back in time",
            p.id
        );
        assert_eq!(t[0].event_type, EventType::Arrival);
        assert_eq!(t[0].facility, Role::Poi);
        let terminal: Vec<_> = t
            .iter()
            .filter(|e| matches!(e.event_type, EventType::Kia | EventType::Rtd | EventType::RemainsRole4))
            .collect();
        assert_eq!(terminal.len(), 1, "patient {}", p.id);
        let last = &t[t.len() - 1];
        assert_eq!(last.event_type, terminal[0].event_type);
        assert_eq!(last.outcome, Some(p.outcome));
        assert_eq!(p.final_status, p.outcome.final_status());
        assert_eq!(last.facility, p.last_facility);
        if p.outcome == Outcome::Kia {
            assert_eq!(p.last_facility, Role::Poi);
        }
        if p.outcome == Outcome::Dow {
            assert_ne!(p.last_facility, Role::Poi);
        }
        summary.add(&PatientFacts::of(&p));
    }
    assert_eq!(count, 100_000);
    let s = summary.build();
    let c = s.calibration;
    assert!(
        (0.10..=0.20).contains(&c.kia_share_of_battle_injuries),
        "KIA {}",
        c.kia_share_of_battle_injuries
    );
    assert!(
        (0.02..=0.06).contains(&c.dow_share_of_battle_injuries_reaching_care),
        "DOW {}",
        c.dow_share_of_battle_injuries_reaching_care
    );
    assert!(c.rtd_share_of_dnbi >= 0.80, "DNBI RTD {}", c.rtd_share_of_dnbi);
    assert!(c.dnbi_rtd_at_role1_2_share > 0.5, "DNBI RTD at Role 1-2 {}", c.dnbi_rtd_at_role1_2_share);
    assert!(c.reached_role4_share > 0.0 && c.reached_role4_share < 0.5, "Role 4 {}", c.reached_role4_share);
    for role in Role::ALL {
        assert!(s.facilities_reached[role.as_str()].count > 0, "{role} never used");
    }
    for o in Outcome::ALL {
        assert!(s.outcomes[o.as_str()].count > 0, "{o} never happens");
    }
    // Triage is not a function of the id (upstream's id mod 10).
    assert!(s.triage["T4"].count > 0);
}
