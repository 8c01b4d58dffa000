//! The floor: a bare WebSocket relay plus one fsync, measured in rounds between the sizes
//! of the latency run (one before the first, one after each), so that each size is
//! compared with the floor of the minutes it ran in rather than of the run's start: on a
//! shared machine both halves drift by tens of percent within minutes.

use crate::fsync::{self, FsyncSamples};
use crate::latency::Chatter;
use crate::relay;
use crate::stats::Percentiles;
use crate::support::dice::Dice;
use anyhow::Context;
use std::path::PathBuf;

/// The samples of one or more rounds, in µs.
#[derive(Debug, Clone, Default)]
pub struct FloorSamples {
    pub relay: Vec<u64>,
    pub fsync: FsyncSamples,
}

/// The percentiles of some rounds.
#[derive(Debug, Clone, Copy)]
pub struct FloorFigures {
    pub relay: Percentiles,
    /// At the consoles' pace: the disk half of the floor.
    pub paced: Percentiles,
    /// Back to back: shown, not part of the floor.
    pub back_to_back: Percentiles,
    /// Direct block writes, as the store's journal makes them: shown, not part of the
    /// floor; none where the file system refuses direct I/O.
    pub direct: Option<Percentiles>,
}

impl FloorFigures {
    /// The floor's p50: the relay's plus the paced fsync's.
    pub fn p50(&self) -> u64 {
        self.relay.p50 + self.paced.p50
    }

    /// The floor's p99: the relay's plus the paced fsync's (a frame meeting both tails).
    pub fn p99(&self) -> u64 {
        self.relay.p99 + self.paced.p99
    }
}

impl FloorSamples {
    /// These rounds' samples together.
    pub fn pooled<'a>(rounds: impl IntoIterator<Item = &'a FloorSamples>) -> FloorSamples {
        let mut all = FloorSamples::default();
        for round in rounds {
            all.relay.extend(&round.relay);
            all.fsync.paced.extend(&round.fsync.paced);
            all.fsync.back_to_back.extend(&round.fsync.back_to_back);
            all.fsync.direct.extend(&round.fsync.direct);
        }
        all
    }

    pub fn figures(&self) -> Option<FloorFigures> {
        Some(FloorFigures {
            relay: Percentiles::of(self.relay.clone())?,
            paced: Percentiles::of(self.fsync.paced.clone())?,
            back_to_back: Percentiles::of(self.fsync.back_to_back.clone())?,
            direct: Percentiles::of(self.fsync.direct.clone()),
        })
    }
}

/// The size of one round.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    /// The workload's pairs and pace; `messages` is this round's relay frames.
    pub chatter: Chatter,
    /// Syncs timed each way.
    pub fsync_samples: usize,
}

/// Measures one round: the fsync beside the stores (in `dir`), then the relay.
pub async fn measure(dir: PathBuf, round: Round, dice: Dice) -> anyhow::Result<FloorSamples> {
    let (samples, gap) = (round.fsync_samples, round.chatter.gap());
    let fsync_dice = dice.derive(3);
    let fsync =
        tokio::task::spawn_blocking(move || fsync::measure(&dir, samples, gap, &fsync_dice))
            .await?
            .context("the fsync")?;
    let chatter = round.chatter;
    let workload = relay::Workload {
        pairs: chatter.pairs,
        per_client: (chatter.messages / (2 * chatter.pairs)).max(1),
        pace: chatter.pace,
    };
    let relay = relay::measure(workload, &dice.derive(1))
        .await
        .context("the relay")?;
    Ok(FloorSamples { relay, fsync })
}
