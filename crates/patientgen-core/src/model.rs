//! The vocabulary of the domain: injury categories, triage, roles, outcomes,
//! warfare types and scenario enumerations, with their wire names.

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used on the wire and in data files.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// Parses the wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// Position in [`Self::ALL`].
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// The three patient categories of the injury mix.
    InjuryType {
        /// Wounded by hostile action.
        BattleInjury = "Battle Injury",
        /// Injured, but not by hostile action (accidents, sports, falls…).
        NonBattleInjury = "Non-Battle Injury",
        /// Ill (infections, heat, mental health…).
        Disease = "Disease",
    }
}

wire_enum! {
    /// NATO triage categories.
    Triage {
        /// Immediate.
        T1 = "T1",
        /// Delayed.
        T2 = "T2",
        /// Minimal.
        T3 = "T3",
        /// Expectant.
        T4 = "T4",
    }
}

wire_enum! {
    /// Places in the chain of care.
    Role {
        /// Point of injury.
        Poi = "POI",
        /// Role 1: unit medical post / battalion aid station.
        Role1 = "Role1",
        /// Role 2: forward surgical capability.
        Role2 = "Role2",
        /// Role 3: field hospital.
        Role3 = "Role3",
        /// Role 4: definitive care, usually in the home nation.
        Role4 = "Role4",
    }
}

wire_enum! {
    /// How a patient's journey ends.
    Outcome {
        /// Killed in action: died before reaching a medical treatment facility.
        Kia = "KIA",
        /// Died of wounds (or illness) after reaching a medical treatment facility.
        Dow = "DOW",
        /// Returned to duty.
        Rtd = "RTD",
        /// Still under care at the end of the simulation (upstream's `Remains_Role4`).
        RemainsRole4 = "REMAINS_ROLE4",
    }
}

wire_enum! {
    /// Warfare types of the temporal model.
    WarfareType {
        /// Conventional combined-arms combat.
        Conventional = "conventional",
        /// Artillery and rocket fire.
        Artillery = "artillery",
        /// Urban operations.
        Urban = "urban",
        /// Guerrilla / insurgent attacks.
        Guerrilla = "guerrilla",
        /// Drone strikes.
        Drone = "drone",
        /// Naval and amphibious operations.
        Naval = "naval",
        /// Chemical, biological, radiological or nuclear attack.
        Cbrn = "cbrn",
        /// Peacekeeping / stabilisation.
        Peacekeeping = "peacekeeping",
        /// Special events that mix several weapon effects.
        Mixed = "mixed",
    }
}

wire_enum! {
    /// Scenario intensity.
    Intensity {
        /// Low.
        Low = "low",
        /// Medium.
        Medium = "medium",
        /// High.
        High = "high",
        /// Extreme.
        Extreme = "extreme",
    }
}

wire_enum! {
    /// Shape of casualties per day.
    Tempo {
        /// Even.
        Sustained = "sustained",
        /// Rising.
        Escalating = "escalating",
        /// A peak early on.
        Surge = "surge",
        /// Falling.
        Declining = "declining",
        /// Alternating quiet and busy days.
        Intermittent = "intermittent",
    }
}

wire_enum! {
    /// Special events that add clustered casualties.
    SpecialEvent {
        /// A major offensive on day 2.
        MajorOffensive = "major_offensive",
        /// Ambushes on days 1, 4 and 6.
        Ambush = "ambush",
        /// Random mass-casualty incidents.
        MassCasualty = "mass_casualty",
    }
}

wire_enum! {
    /// Environmental conditions.
    Environment {
        /// Rain.
        Rain = "rain",
        /// Fog.
        Fog = "fog",
        /// Storm.
        Storm = "storm",
        /// Extreme heat.
        ExtremeHeat = "extreme_heat",
        /// Extreme cold.
        ExtremeCold = "extreme_cold",
        /// Dust storm.
        DustStorm = "dust_storm",
        /// Night operations.
        NightOperations = "night_operations",
        /// Mountainous terrain.
        MountainousTerrain = "mountainous_terrain",
        /// Urban debris.
        UrbanDebris = "urban_debris",
    }
}

wire_enum! {
    /// Body regions used by upstream's `body_part` field.
    BodyPart {
        /// Head and neck.
        Head = "Head",
        /// Chest and abdomen.
        Torso = "Torso",
        /// Left arm.
        LeftArm = "Left Arm",
        /// Right arm.
        RightArm = "Right Arm",
        /// Left leg.
        LeftLeg = "Left Leg",
        /// Right leg.
        RightLeg = "Right Leg",
    }
}

wire_enum! {
    /// Gender as recorded by upstream.
    Gender {
        /// Male.
        Male = "male",
        /// Female.
        Female = "female",
    }
}

impl Role {
    /// The roles after the point of injury.
    pub const FACILITIES: [Role; 4] = [Role::Role1, Role::Role2, Role::Role3, Role::Role4];

    /// Upstream's short id (`R1`…) used by the facility-types reference route.
    pub const fn short_id(self) -> &'static str {
        match self {
            Role::Poi => "POI",
            Role::Role1 => "R1",
            Role::Role2 => "R2",
            Role::Role3 => "R3",
            Role::Role4 => "R4",
        }
    }

    /// A human-readable name.
    pub const fn display_name(self) -> &'static str {
        match self {
            Role::Poi => "Point of Injury",
            Role::Role1 => "Role 1",
            Role::Role2 => "Role 2",
            Role::Role3 => "Role 3",
            Role::Role4 => "Role 4",
        }
    }

    /// Reads a role from the many spellings clients use (`Role1`, `R1`, `role_1`,
    /// `Role 1`, `role1_alpha`…).
    pub fn infer(text: &str) -> Option<Role> {
        let lower = text.to_ascii_lowercase();
        if lower == "poi" || lower.contains("point of injury") {
            return Some(Role::Poi);
        }
        let compact: String = lower.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        for (n, role) in [(1, Role::Role1), (2, Role::Role2), (3, Role::Role3), (4, Role::Role4)] {
            let starts = [format!("role{n}"), format!("r{n}")];
            if starts.iter().any(|s| compact.starts_with(s.as_str())) || compact.contains(&format!("role{n}"))
            {
                return Some(role);
            }
        }
        None
    }
}

impl Outcome {
    /// Upstream's `final_status` (viewer vocabulary): DOW is reported as KIA there.
    pub const fn final_status(self) -> &'static str {
        match self {
            Outcome::Kia | Outcome::Dow => "KIA",
            Outcome::Rtd => "RTD",
            Outcome::RemainsRole4 => "Remains_Role4",
        }
    }

    /// The timeline's terminal event type.
    pub const fn event_type(self) -> &'static str {
        match self {
            Outcome::Kia | Outcome::Dow => "kia",
            Outcome::Rtd => "rtd",
            Outcome::RemainsRole4 => "remains_role4",
        }
    }
}

impl BodyPart {
    /// Whether this is an arm or a leg.
    pub const fn is_limb(self) -> bool {
        !matches!(self, BodyPart::Head | BodyPart::Torso)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for t in InjuryType::ALL {
            assert_eq!(InjuryType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(Triage::parse("T4"), Some(Triage::T4));
        assert_eq!(Outcome::Dow.final_status(), "KIA");
        assert_eq!(serde_json::to_string(&Role::Poi).ok().as_deref(), Some("\"POI\""));
    }

    #[test]
    fn roles_are_inferred_from_common_spellings() {
        assert_eq!(Role::infer("Role1"), Some(Role::Role1));
        assert_eq!(Role::infer("R2"), Some(Role::Role2));
        assert_eq!(Role::infer("role2_poland"), Some(Role::Role2));
        assert_eq!(Role::infer("Role 3"), Some(Role::Role3));
        assert_eq!(Role::infer("POI"), Some(Role::Poi));
        assert_eq!(Role::infer("field kitchen"), None);
    }
}
