//! Rename detection exactly as `git diff -M` / `git log` does it (git's diffcore-rename.c
//! and diffcore-delta.c), without copy or break detection.
//!
//! gix has its own rename tracker, but it scores similarity by line diff and pairs files
//! in another order, so on real histories it sometimes pairs a different source with a
//! destination and the line counts drift from `git log --numstat`. Git's order is: exact
//! renames (same blob), then files with the same unique basename at >= 75% similarity, then
//! the best-scoring pairs of the whole matrix at >= 50%, with similarity measured on hashed
//! line chunks.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::objs::tree::{EntryKind, EntryMode};
use gix::objs::{Find, FindExt};

/// git's similarity scale: 60000 is identical.
const MAX_SCORE: f64 = 60000.0;
/// `-M50%`, git's default.
const MINIMUM_SCORE: u32 = 30000;
/// Same-basename pairs must be more similar: halfway between the minimum and identical.
const MINIMUM_BASENAME_SCORE: u32 =
    MINIMUM_SCORE + ((MAX_SCORE - MINIMUM_SCORE as f64) * 0.5) as u32;
const CANDIDATES_PER_DESTINATION: usize = 4;
/// git looks at no more identical sources than this for one destination.
const EXACT_ALTERNATIVES: usize = 100;
/// Prime between 2^16 and 2^17 that git reduces chunk hashes by.
const HASHBASE: u32 = 107_927;

/// A deleted (source) or added (destination) file.
pub(super) struct File<'a> {
    pub path: &'a BStr,
    pub id: ObjectId,
    pub mode: EntryMode,
}

/// Pairs deleted `sources` with added `destinations`, both in git's path order; returns
/// `(source, destination)` indices. `limit` is `diff.renameLimit` (0: unlimited): above
/// `limit * limit` candidate pairs only exact renames are found, as in git.
pub(super) fn detect(
    sources: &[File<'_>],
    destinations: &[File<'_>],
    limit: usize,
    objects: &impl Find,
) -> Result<Vec<(usize, usize)>, gix::Error> {
    let mut state = Pairing {
        source_used: vec![false; sources.len()],
        destination_source: vec![None; destinations.len()],
    };
    if sources.is_empty() || destinations.is_empty() {
        return Ok(Vec::new());
    }
    exact_renames(sources, destinations, &mut state);
    let mut similarity = Similarity::new(sources.len(), destinations.len());
    basename_renames(sources, destinations, &mut state, &mut similarity, objects)?;
    matrix_renames(
        sources,
        destinations,
        limit,
        &mut state,
        &mut similarity,
        objects,
    )?;
    Ok(state
        .destination_source
        .iter()
        .enumerate()
        .filter_map(|(destination, source)| source.map(|source| (source, destination)))
        .collect())
}

struct Pairing {
    source_used: Vec<bool>,
    destination_source: Vec<Option<usize>>,
}

impl Pairing {
    fn pair(&mut self, source: usize, destination: usize) {
        self.source_used[source] = true;
        self.destination_source[destination] = Some(source);
    }

    fn is_paired(&self, destination: usize) -> bool {
        self.destination_source[destination].is_some()
    }

    fn free_sources(&self) -> Vec<usize> {
        (0..self.source_used.len())
            .filter(|&source| !self.source_used[source])
            .collect()
    }

    fn free_destinations(&self) -> Vec<usize> {
        (0..self.destination_source.len())
            .filter(|&destination| !self.is_paired(destination))
            .collect()
    }
}

fn is_regular(mode: EntryMode) -> bool {
    matches!(mode.kind(), EntryKind::Blob | EntryKind::BlobExecutable)
}

fn basename(path: &BStr) -> &[u8] {
    path.rfind_byte(b'/')
        .map_or(path.as_bytes(), |slash| &path[slash + 1..])
}

fn same_basename(a: &File<'_>, b: &File<'_>) -> bool {
    basename(a.path) == basename(b.path)
}

/// Destinations in order take the first unused source with the same blob, preferring one
/// with the same basename (git's find_exact_renames).
fn exact_renames(sources: &[File<'_>], destinations: &[File<'_>], state: &mut Pairing) {
    let mut by_id: HashMap<ObjectId, Vec<usize>> = HashMap::new();
    for (index, source) in sources.iter().enumerate() {
        by_id.entry(source.id).or_default().push(index);
    }
    for (destination_index, destination) in destinations.iter().enumerate() {
        let Some(candidates) = by_id.get(&destination.id) else {
            continue;
        };
        let mut best: Option<(usize, u8)> = None;
        let mut alternatives = EXACT_ALTERNATIVES;
        for &source_index in candidates {
            let source = &sources[source_index];
            let both_regular = is_regular(source.mode) && is_regular(destination.mode);
            if (!both_regular && source.mode != destination.mode) || state.source_used[source_index]
            {
                continue;
            }
            let score = 1 + u8::from(same_basename(source, destination));
            if best.is_none_or(|(_, best_score)| score > best_score) {
                best = Some((source_index, score));
                if score == 2 {
                    break;
                }
            }
            alternatives -= 1;
            if alternatives == 0 {
                break;
            }
        }
        if let Some((source_index, _)) = best {
            state.pair(source_index, destination_index);
        }
    }
}

/// A source and a destination whose basenames are each unique among the files still
/// unpaired are a rename when at least 75% similar (git's find_basename_matches).
fn basename_renames(
    sources: &[File<'_>],
    destinations: &[File<'_>],
    state: &mut Pairing,
    similarity: &mut Similarity,
    objects: &impl Find,
) -> Result<(), gix::Error> {
    let unique = |indices: Vec<usize>, files: &[File<'_>]| {
        let mut by_name: HashMap<Vec<u8>, Option<usize>> = HashMap::new();
        for index in indices {
            by_name
                .entry(basename(files[index].path).to_vec())
                .and_modify(|only| *only = None)
                .or_insert(Some(index));
        }
        by_name
    };
    let free_sources = state.free_sources();
    let source_names = unique(free_sources.clone(), sources);
    let destination_names = unique(state.free_destinations(), destinations);
    for source_index in free_sources {
        let name = basename(sources[source_index].path);
        let (Some(Some(unique_source)), Some(Some(destination_index))) =
            (source_names.get(name), destination_names.get(name))
        else {
            continue;
        };
        if *unique_source != source_index || state.is_paired(*destination_index) {
            continue;
        }
        let score = similarity.score(
            sources,
            destinations,
            source_index,
            *destination_index,
            MINIMUM_BASENAME_SCORE,
            objects,
        )?;
        if score >= MINIMUM_BASENAME_SCORE {
            state.pair(source_index, *destination_index);
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Candidate {
    /// `None`: an empty slot, sorted last.
    destination: Option<usize>,
    source: usize,
    score: u32,
    same_name: bool,
}

impl Candidate {
    const EMPTY: Candidate = Candidate {
        destination: None,
        source: 0,
        score: 0,
        same_name: false,
    };

    /// git's score_compare: filled slots first, higher score first, same basename first.
    fn rank(&self) -> (bool, Reverse<u32>, Reverse<bool>) {
        (
            self.destination.is_none(),
            Reverse(self.score),
            Reverse(self.same_name),
        )
    }
}

/// Every remaining destination keeps its best four sources; then pairs are taken best
/// first (git's inexact rename matrix).
fn matrix_renames(
    sources: &[File<'_>],
    destinations: &[File<'_>],
    limit: usize,
    state: &mut Pairing,
    similarity: &mut Similarity,
    objects: &impl Find,
) -> Result<(), gix::Error> {
    let free_sources = state.free_sources();
    let free_destinations = state.free_destinations();
    if free_sources.is_empty() || free_destinations.is_empty() {
        return Ok(());
    }
    let limit = limit as u128;
    if limit > 0 && (free_sources.len() as u128) * (free_destinations.len() as u128) > limit * limit
    {
        return Ok(());
    }
    let mut matrix = Vec::with_capacity(free_destinations.len() * CANDIDATES_PER_DESTINATION);
    for &destination_index in &free_destinations {
        let mut best = [Candidate::EMPTY; CANDIDATES_PER_DESTINATION];
        for &source_index in &free_sources {
            let candidate = Candidate {
                destination: Some(destination_index),
                source: source_index,
                score: similarity.score(
                    sources,
                    destinations,
                    source_index,
                    destination_index,
                    MINIMUM_SCORE,
                    objects,
                )?,
                same_name: same_basename(&sources[source_index], &destinations[destination_index]),
            };
            record_if_better(&mut best, candidate);
        }
        matrix.extend(best);
    }
    matrix.sort_by_key(Candidate::rank);
    for candidate in matrix {
        let Some(destination_index) = candidate.destination else {
            break;
        };
        if candidate.score < MINIMUM_SCORE {
            break;
        }
        if state.is_paired(destination_index) || state.source_used[candidate.source] {
            continue;
        }
        state.pair(candidate.source, destination_index);
    }
    Ok(())
}

/// Replaces the worst of `best` (the first of equally bad ones) when `candidate` ranks higher.
fn record_if_better(best: &mut [Candidate], candidate: Candidate) {
    let mut worst = 0;
    for index in 1..best.len() {
        if best[index].rank().cmp(&best[worst].rank()) == Ordering::Greater {
            worst = index;
        }
    }
    if best[worst].rank().cmp(&candidate.rank()) == Ordering::Greater {
        best[worst] = candidate;
    }
}

/// A blob's size and chunk counts, computed once per file per commit.
struct Fingerprint {
    size: u64,
    /// Sorted `(chunk hash, bytes)`.
    chunks: Vec<(u32, u32)>,
}

struct Similarity {
    sources: Vec<Option<Fingerprint>>,
    destinations: Vec<Option<Fingerprint>>,
}

impl Similarity {
    fn new(sources: usize, destinations: usize) -> Self {
        Self {
            sources: (0..sources).map(|_| None).collect(),
            destinations: (0..destinations).map(|_| None).collect(),
        }
    }

    /// git's estimate_similarity: 0 for non-regular files or sizes too far apart, else the
    /// share of the larger file's bytes that the source's chunks account for.
    fn score(
        &mut self,
        sources: &[File<'_>],
        destinations: &[File<'_>],
        source_index: usize,
        destination_index: usize,
        minimum: u32,
        objects: &impl Find,
    ) -> Result<u32, gix::Error> {
        let (source, destination) = (&sources[source_index], &destinations[destination_index]);
        if !is_regular(source.mode) || !is_regular(destination.mode) {
            return Ok(0);
        }
        let source = fingerprint(&mut self.sources[source_index], source.id, objects)?;
        let destination = fingerprint(
            &mut self.destinations[destination_index],
            destination.id,
            objects,
        )?;
        let max_size = source.size.max(destination.size);
        let delta_size = max_size - source.size.min(destination.size);
        if (max_size as f64) * (MAX_SCORE - f64::from(minimum)) < (delta_size as f64) * MAX_SCORE {
            return Ok(0);
        }
        if destination.size == 0 {
            return Ok(0);
        }
        let copied = copied_bytes(&source.chunks, &destination.chunks);
        Ok(((copied as f64) * MAX_SCORE / (max_size as f64)) as u32)
    }
}

fn fingerprint<'a>(
    slot: &'a mut Option<Fingerprint>,
    id: ObjectId,
    objects: &impl Find,
) -> Result<&'a Fingerprint, gix::Error> {
    let fingerprint = match slot.take() {
        Some(fingerprint) => fingerprint,
        None => {
            let mut buffer = Vec::new();
            let blob = objects.find_blob(&id, &mut buffer)?;
            Fingerprint {
                size: blob.data.len() as u64,
                chunks: chunks(blob.data),
            }
        }
    };
    Ok(slot.insert(fingerprint))
}

/// Cuts `data` into chunks ending at a newline or after 64 bytes, hashes them and sums the
/// bytes per hash (git's hash_chars). In text, a CR before LF is ignored.
fn chunks(data: &[u8]) -> Vec<(u32, u32)> {
    let is_text = !data[..data.len().min(8000)].contains(&0);
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let (mut length, mut accum1, mut accum2) = (0u32, 0u32, 0u32);
    let hash = |accum1: u32, accum2: u32| accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE;
    for (index, &byte) in data.iter().enumerate() {
        if is_text && byte == b'\r' && data.get(index + 1) == Some(&b'\n') {
            continue;
        }
        let old1 = accum1;
        accum1 = (accum1 << 7) ^ (accum2 >> 25);
        accum2 = (accum2 << 7) ^ (old1 >> 25);
        accum1 = accum1.wrapping_add(u32::from(byte));
        length += 1;
        if length < 64 && byte != b'\n' {
            continue;
        }
        *counts.entry(hash(accum1, accum2)).or_default() += length;
        (length, accum1, accum2) = (0, 0, 0);
    }
    if length > 0 {
        *counts.entry(hash(accum1, accum2)).or_default() += length;
    }
    let mut chunks: Vec<(u32, u32)> = counts.into_iter().collect();
    chunks.sort_unstable();
    chunks
}

/// Bytes of the source's chunks found again in the destination (git's
/// diffcore_count_changes, `src_copied`).
fn copied_bytes(source: &[(u32, u32)], destination: &[(u32, u32)]) -> u64 {
    let mut copied = 0u64;
    let mut destination = destination.iter().peekable();
    for &(hash, source_count) in source {
        while destination.next_if(|(other, _)| *other < hash).is_some() {}
        let destination_count = destination
            .next_if(|(other, _)| *other == hash)
            .map_or(0, |(_, count)| *count);
        copied += u64::from(source_count.min(destination_count));
    }
    copied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_at_newlines_and_64_bytes() {
        let text = b"one\ntwo\none\n";
        let chunks = chunks(text);
        let total: u32 = chunks.iter().map(|(_, bytes)| bytes).sum();
        assert_eq!(total, 12);
        assert_eq!(chunks.len(), 2, "'one\\n' twice shares a hash");
        let long = [b'x'; 130];
        let total: u32 = super::chunks(&long).iter().map(|(_, bytes)| bytes).sum();
        assert_eq!(total, 130);
    }

    #[test]
    fn crlf_counts_like_lf_in_text() {
        let unix = chunks(b"a\nb\n");
        let dos = chunks(b"a\r\nb\r\n");
        assert_eq!(copied_bytes(&unix, &dos), 4);
    }

    #[test]
    fn copied_bytes_takes_the_smaller_count() {
        let source = [(1, 10), (2, 5), (7, 3)];
        let destination = [(0, 4), (2, 9), (7, 1), (9, 2)];
        assert_eq!(copied_bytes(&source, &destination), 5 + 1);
    }

    #[test]
    fn basename_score_is_75_percent() {
        assert_eq!(MINIMUM_BASENAME_SCORE, 45000);
    }

    #[test]
    fn better_candidates_replace_the_worst() {
        let candidate = |source, score| Candidate {
            destination: Some(0),
            source,
            score,
            same_name: false,
        };
        let mut best = [Candidate::EMPTY; 2];
        record_if_better(&mut best, candidate(1, 10));
        record_if_better(&mut best, candidate(2, 30));
        record_if_better(&mut best, candidate(3, 20));
        let mut kept: Vec<usize> = best.iter().map(|c| c.source).collect();
        kept.sort();
        assert_eq!(kept, vec![2, 3]);
    }
}
