//! The text report of `generate --summary` and `patientgen stats`.

use super::{Share, Summary};
use crate::model::Role;
use std::collections::BTreeMap;
use std::fmt;

fn pct(s: &Share) -> String {
    format!("{:>8} {:>6.1} %", s.count, s.share * 100.0)
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Patients: {}", self.total_patients)?;
        let section =
            |f: &mut fmt::Formatter<'_>, title: &str, map: &BTreeMap<String, Share>| -> fmt::Result {
                writeln!(f, "\n{title}")?;
                let mut rows: Vec<(&String, &Share)> = map.iter().collect();
                rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
                for (k, v) in rows {
                    writeln!(f, "  {k:<28}{}", pct(v))?;
                }
                Ok(())
            };
        section(f, "Outcome", &self.outcomes)?;
        section(f, "Triage", &self.triage)?;
        section(f, "Injury type", &self.injury_types)?;
        section(f, "Front", &self.fronts)?;
        section(f, "Nationality", &self.nationalities)?;
        section(f, "Reached facility", &self.facilities_reached)?;
        writeln!(f, "\nMass-casualty patients       {}", pct(&self.mass_casualty))?;
        let c = &self.calibration;
        writeln!(f, "\nCalibration (guide values from military trauma registries)")?;
        writeln!(
            f,
            "  KIA of battle injuries            {:>6.1} %   (10-20 %)",
            c.kia_share_of_battle_injuries * 100.0
        )?;
        writeln!(
            f,
            "  DOW of battle injuries at care    {:>6.1} %   (2-6 %)",
            c.dow_share_of_battle_injuries_reaching_care * 100.0
        )?;
        writeln!(
            f,
            "  RTD of disease/non-battle         {:>6.1} %   (>= 80 %)",
            c.rtd_share_of_dnbi * 100.0
        )?;
        writeln!(f, "    of which at Role 1-2            {:>6.1} %", c.dnbi_rtd_at_role1_2_share * 100.0)?;
        writeln!(
            f,
            "  Reached Role 4 (all patients)     {:>6.1} %   (a minority)",
            c.reached_role4_share * 100.0
        )?;
        writeln!(f, "\nHours from injury to arrival (p50 / p90 / p99)")?;
        writeln!(f, "  {:<8}{:>22}{:>22}{:>22}{:>22}{:>22}", "", "T1", "T2", "T3", "T4", "all")?;
        for role in Role::FACILITIES {
            let Some(row) = self.arrival_hours.get(role.as_str()) else {
                continue;
            };
            write!(f, "  {:<8}", role.as_str())?;
            for t in ["T1", "T2", "T3", "T4", "all"] {
                match row.get(t) {
                    Some(p) => write!(f, "{:>22}", format!("{:.1} / {:.1} / {:.1}", p.p50, p.p90, p.p99))?,
                    None => write!(f, "{:>22}", "-")?,
                }
            }
            writeln!(f)?;
        }
        writeln!(f, "\nHours from injury to outcome (p50 / p90 / max)")?;
        for (k, p) in &self.outcome_hours {
            writeln!(f, "  {k:<14}{:.1} / {:.1} / {:.1}", p.p50, p.p90, p.max)?;
        }
        Ok(())
    }
}
