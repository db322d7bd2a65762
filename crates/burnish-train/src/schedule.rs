//! Learning-rate schedules: linear warmup, then linear or cosine decay to zero (as
//! `transformers`' `get_linear_schedule_with_warmup` / `get_cosine_schedule_with_warmup`), or
//! constant after warmup.

use serde::{Deserialize, Serialize};

/// Shape of the learning rate after warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Linear decay to zero at the last step.
    #[default]
    Linear,
    /// Half-cosine decay to zero at the last step.
    Cosine,
    /// Constant.
    Constant,
}

/// A warmup + decay schedule over `total_steps` optimizer steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Peak learning rate.
    pub peak: f64,
    /// Steps of linear warmup from 0.
    pub warmup_steps: usize,
    /// Total optimizer steps.
    pub total_steps: usize,
    /// Decay after warmup.
    pub kind: ScheduleKind,
}

impl Schedule {
    /// The learning rate used for optimizer step `step` (0-based), exactly as `transformers`'
    /// `LambdaLR` schedules give it.
    pub fn lr(&self, step: usize) -> f64 {
        let factor = if step < self.warmup_steps {
            step as f64 / self.warmup_steps.max(1) as f64
        } else {
            let decay_steps = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
            let progress = (step - self.warmup_steps) as f64 / decay_steps;
            match self.kind {
                ScheduleKind::Linear => (1.0 - progress).max(0.0),
                ScheduleKind::Cosine => {
                    (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0)
                }
                ScheduleKind::Constant => 1.0,
            }
        };
        self.peak * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_warmup_then_decay_matches_transformers() {
        // get_linear_schedule_with_warmup(opt, 2, 10) with lr 1.0 gives, per step:
        // 0, .5, 1, .875, .75, .625, .5, .375, .25, .125
        let s = Schedule {
            peak: 1.0,
            warmup_steps: 2,
            total_steps: 10,
            kind: ScheduleKind::Linear,
        };
        let got: Vec<f64> = (0..10).map(|i| s.lr(i)).collect();
        let want = [0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn cosine_reaches_half_in_the_middle() {
        let s = Schedule {
            peak: 2.0,
            warmup_steps: 0,
            total_steps: 10,
            kind: ScheduleKind::Cosine,
        };
        assert!((s.lr(0) - 2.0).abs() < 1e-12);
        assert!((s.lr(5) - 1.0).abs() < 1e-12);
    }
}
