//! `[constraints]`: GBDT constraints by feature name, resolved against the features the
//! fitted pipeline outputs.

use anyhow::Result;
use capstan_learn::gbdt::GbdtParams;

use crate::config::{ConstraintsConfig, ModelKind, TrainConfig};
use crate::exit::input_error;

/// The section fits the model and does not repeat `gbdt`'s by-index lists.
pub(super) fn check(cfg: &TrainConfig) -> Result<()> {
    let c = &cfg.constraints;
    if c.is_empty() {
        return Ok(());
    }
    if cfg.model != ModelKind::Gbdt {
        return Err(input_error(
            "constraints apply to gbdt models only (model = \"gbdt\")",
        ));
    }
    let both = |key: &str| {
        input_error(format!(
            "give {key} constraints once: by name in [constraints] or by index in \
             gbdt.{key}_constraints, not both"
        ))
    };
    if !c.monotone.is_empty() && !cfg.gbdt.monotone_constraints.is_empty() {
        return Err(both("monotone"));
    }
    if !c.interaction.is_empty() && !cfg.gbdt.interaction_constraints.is_empty() {
        return Err(both("interaction"));
    }
    for (name, &d) in &c.monotone {
        if !(-1..=1).contains(&d) {
            return Err(input_error(format!(
                "constraints.monotone: '{name}' = {d}; use 1 (increasing), -1 (decreasing) \
                 or 0 (free)"
            )));
        }
    }
    Ok(())
}

/// Sets `params`' monotone and interaction constraints from the names in `c`.
pub(super) fn apply(
    c: &ConstraintsConfig,
    features: &[String],
    params: &mut GbdtParams,
) -> Result<()> {
    let index = |key: &str, name: &str| {
        features.iter().position(|f| f == name).ok_or_else(|| {
            input_error(format!(
                "constraints.{key}: no feature '{name}'; the features are {}",
                listing(features)
            ))
        })
    };
    if !c.monotone.is_empty() {
        let mut dirs = vec![0; features.len()];
        for (name, &d) in &c.monotone {
            dirs[index("monotone", name)?] = d;
        }
        params.monotone_constraints = dirs;
    }
    if !c.interaction.is_empty() {
        params.interaction_constraints = c
            .interaction
            .iter()
            .map(|group| group.iter().map(|n| index("interaction", n)).collect())
            .collect::<Result<_>>()?;
    }
    Ok(())
}

/// Up to 20 names, quoted.
fn listing(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(20).map(|n| format!("'{n}'")).collect();
    if names.len() > shown.len() {
        format!("{}, ... ({} in all)", shown.join(", "), names.len())
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["age", "income", "city=paris", "income__missing"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn names_become_indices() {
        let c: ConstraintsConfig = toml::from_str(
            "monotone = { income = 1, age = -1 }\ninteraction = [[\"age\", \"city=paris\"], [\"income\"]]",
        )
        .expect("toml");
        let mut p = GbdtParams::default();
        apply(&c, &names(), &mut p).expect("apply");
        assert_eq!(p.monotone_constraints, [-1, 1, 0, 0]);
        assert_eq!(p.interaction_constraints, [vec![0, 2], vec![1]]);
    }

    #[test]
    fn unknown_names_and_conflicts_are_refused() {
        let c: ConstraintsConfig = toml::from_str("monotone = { incme = 1 }").expect("toml");
        let e = apply(&c, &names(), &mut GbdtParams::default())
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("'incme'") && e.contains("'income'"), "{e}");
        let c: ConstraintsConfig =
            toml::from_str("interaction = [[\"age\", \"x\"]]").expect("toml");
        let e = apply(&c, &names(), &mut GbdtParams::default())
            .expect_err("unknown")
            .to_string();
        assert!(
            e.contains("constraints.interaction") && e.contains("'x'"),
            "{e}"
        );

        let mut cfg = TrainConfig::default();
        cfg.constraints.monotone.insert("age".into(), 2);
        assert!(
            check(&cfg)
                .expect_err("2")
                .to_string()
                .contains("'age' = 2")
        );
        cfg.constraints.monotone.insert("age".into(), 1);
        check(&cfg).expect("fine");
        cfg.gbdt.monotone_constraints = vec![1, 0];
        assert!(
            check(&cfg)
                .expect_err("both")
                .to_string()
                .contains("not both")
        );
        cfg.gbdt.monotone_constraints.clear();
        cfg.model = ModelKind::Linear;
        assert!(
            check(&cfg)
                .expect_err("linear")
                .to_string()
                .contains("gbdt")
        );
    }
}
