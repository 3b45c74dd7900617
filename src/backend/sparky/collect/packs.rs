//! Objects read for line counts (trees and blobs), with the pack entries decoded on the
//! way kept for a while.
//!
//! Packs store most versions of a file as a delta against another version, in chains. To
//! read one, gix inflates its whole chain and keeps only the result; git keeps the bases it
//! decoded (`core.deltaBaseCacheLimit`), so the next version of the file costs one delta.
//! Here a blob in a pack is decoded base first, one entry of its chain at a time, and each
//! decoded entry is kept, up to a budget in bytes, oldest dropped first: a later blob whose
//! chain passes through a kept entry is one delta away, and a blob read twice (the new side
//! of the commit that wrote it and the old side of the next one that changed it; rename
//! detection before line counts) is not decoded again. Objects outside the packs opened here
//! (loose objects, a pack written since) are read through gix.
//!
//! Whatever asks for a blob gets the bytes the object database holds: path-dependent
//! settings (attributes) still apply as before.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::ops::Range;

use gix::hash::oid;
use gix::objs::{Data, Find, FindHeader, Header, Kind};
use gix::odb::pack::Bundle;
use gix::odb::pack::cache::DecodeEntry;
use gix::odb::pack::data::{self, entry};

/// Bytes of decoded entries kept per thread: see docs/benchmarks.md for how it was chosen.
const BUDGET: usize = 32 << 20;

/// The longest delta chain `git pack-objects --depth` writes.
const MAX_CHAIN: usize = 4095;

/// A decoded pack entry: the pack's id and the entry's offset.
type EntryKey = (u32, data::Offset);

/// Reads objects from a repository's packs, one per thread.
pub(super) struct PackReader {
    packs: Vec<Bundle>,
    state: RefCell<State>,
}

struct State {
    kept: Kept<EntryKey, Decoded>,
    inflate: gix::zlib::Inflate,
}

/// What gix's delta resolution needs back besides the bytes.
#[derive(Clone, Copy)]
struct Decoded {
    kind: Kind,
    compressed_size: usize,
}

impl PackReader {
    /// Opens the repository's packs; one that cannot be opened is left to gix.
    pub fn new(repo: &gix::Repository) -> Self {
        let folder = repo.common_dir().join("objects").join("pack");
        let kind = repo.object_hash();
        let packs = std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "idx"))
            .filter_map(|index| Bundle::at(index, kind).ok())
            .collect();
        Self {
            packs,
            state: RefCell::new(State {
                kept: Kept::with_budget(BUDGET),
                inflate: Default::default(),
            }),
        }
    }

    /// `objects`, answering reads from the packs first.
    pub fn over<'a, T>(&'a self, objects: &'a T) -> Reading<'a, T> {
        Reading {
            objects,
            reader: self,
        }
    }

    /// The pack and entry that hold `id`.
    fn locate(&self, id: &oid) -> Option<(&Bundle, data::Entry)> {
        self.packs.iter().find_map(|pack| {
            let at = pack.index.lookup(id)?;
            let entry = pack.pack.entry(pack.index.pack_offset_at_index(at)).ok()?;
            Some((pack, entry))
        })
    }

    /// Decodes `wanted` into `out`, base first; `None` when gix should read it instead.
    fn decode(&self, pack: &Bundle, wanted: data::Entry, out: &mut Vec<u8>) -> Option<Kind> {
        let state = &mut *self.state.borrow_mut();
        let id = pack.pack.id;
        if let Some((kind, _)) = DecodeEntry::get(&mut state.kept, id, wanted.data_offset, out) {
            return Some(kind);
        }
        // The chain from the wanted entry down to its base, or to the first entry kept.
        let mut chain = vec![wanted];
        loop {
            let last = chain.last()?;
            if state.kept.contains(&(id, last.data_offset)) {
                break;
            }
            // git writes chains of at most 4,095; a longer one is a cycle in a corrupt pack,
            // which gix reports.
            if chain.len() > MAX_CHAIN {
                return None;
            }
            let base = match last.header {
                entry::Header::OfsDelta { base_distance } => {
                    last.checked_base_pack_offset(base_distance)?
                }
                entry::Header::RefDelta { base_id } => {
                    pack.index.pack_offset_at_index(pack.index.lookup(base_id)?)
                }
                _ => break,
            };
            chain.push(pack.pack.entry(base).ok()?);
        }
        let no_other_pack = |_: &oid, _: &mut Vec<u8>| Ok(None);
        let mut kind = None;
        for entry in chain.into_iter().rev() {
            let (offset, is_delta) = (entry.data_offset, entry.header.is_delta());
            let outcome = pack
                .pack
                .decode_entry(
                    entry,
                    out,
                    &mut state.inflate,
                    &no_other_pack,
                    &mut state.kept,
                )
                .ok()?;
            // gix keeps what a delta resolves to, not a base it reads whole.
            if !is_delta {
                state
                    .kept
                    .put(id, offset, out, outcome.kind, outcome.compressed_size);
            }
            kind = Some(outcome.kind);
        }
        kind
    }
}

/// Entries written one after another into one buffer, wrapping around at its end, each
/// overwriting the oldest: memory is the budget, allocated once, not a buffer per entry.
struct Kept<K, V> {
    ring: Vec<u8>,
    budget: usize,
    at: HashMap<K, (Range<usize>, V)>,
    /// The entries in `ring`, the oldest first.
    order: VecDeque<(K, Range<usize>)>,
    /// Where the next entry goes.
    end: usize,
}

impl DecodeEntry for Kept<EntryKey, Decoded> {
    fn put(&mut self, pack: u32, offset: u64, data: &[u8], kind: Kind, compressed_size: usize) {
        let decoded = Decoded {
            kind,
            compressed_size,
        };
        self.keep((pack, offset), data, decoded);
    }

    fn get(&mut self, pack: u32, offset: u64, out: &mut Vec<u8>) -> Option<(Kind, usize)> {
        let (bytes, decoded) = Kept::get(self, &(pack, offset))?;
        out.clear();
        out.extend_from_slice(bytes);
        Some((decoded.kind, decoded.compressed_size))
    }
}

thread_local! {
    /// The ring of the last repository this thread read: the next one reuses its memory
    /// instead of having fresh pages mapped and zeroed as it writes them (a tenth of a
    /// second of system time over 19 repositories). Freed when the thread ends.
    static SPARE_RING: std::cell::Cell<Option<Vec<u8>>> = const { std::cell::Cell::new(None) };
}

impl<K, V> Drop for Kept<K, V> {
    fn drop(&mut self) {
        if !self.ring.is_empty() {
            SPARE_RING.set(Some(std::mem::take(&mut self.ring)));
        }
    }
}

impl<K: Hash + Eq + Clone, V: Copy> Kept<K, V> {
    fn with_budget(budget: usize) -> Self {
        Self {
            ring: Vec::new(),
            budget,
            at: HashMap::new(),
            order: VecDeque::new(),
            end: 0,
        }
    }

    fn get(&self, key: &K) -> Option<(&[u8], V)> {
        self.at
            .get(key)
            .map(|(range, value)| (&self.ring[range.clone()], *value))
    }

    fn contains(&self, key: &K) -> bool {
        self.at.contains_key(key)
    }

    fn keep(&mut self, key: K, data: &[u8], value: V) {
        if data.len() > self.budget || self.at.contains_key(&key) {
            return;
        }
        if self.ring.is_empty() {
            self.ring = SPARE_RING
                .take()
                .filter(|spare| spare.len() == self.budget)
                // Zeroed memory is mapped lazily: pages count only once written.
                .unwrap_or_else(|| vec![0; self.budget]);
        }
        if self.end + data.len() > self.budget {
            // Around to the start: the blobs after the last one written are the oldest.
            let end = self.end;
            self.drop_oldest_while(|kept| kept.start >= end);
            self.end = 0;
        }
        let range = self.end..self.end + data.len();
        self.drop_oldest_while(|kept| range.start <= kept.start && kept.start < range.end);
        self.ring[range.clone()].copy_from_slice(data);
        self.end = range.end;
        self.at.insert(key.clone(), (range.clone(), value));
        self.order.push_back((key, range));
    }

    fn drop_oldest_while(&mut self, overwritten: impl Fn(&Range<usize>) -> bool) {
        while let Some((key, range)) = self.order.front()
            && overwritten(range)
        {
            self.at.remove(key);
            self.order.pop_front();
        }
    }
}

/// An object database whose reads go through a [`PackReader`] first.
pub(super) struct Reading<'a, T> {
    objects: &'a T,
    reader: &'a PackReader,
}

impl<T: Find> Find for Reading<'_, T> {
    fn try_find<'a>(&self, id: &oid, buffer: &'a mut Vec<u8>) -> gix::Result<Option<Data<'a>>> {
        let decoded = self
            .reader
            .locate(id)
            .and_then(|(pack, entry)| self.reader.decode(pack, entry, buffer));
        match decoded {
            Some(kind) => Ok(Some(Data {
                kind,
                object_hash: id.kind(),
                data: buffer,
            })),
            None => self.objects.try_find(id, buffer),
        }
    }
}

impl<T: FindHeader> FindHeader for Reading<'_, T> {
    fn try_header(&self, id: &oid) -> gix::Result<Option<Header>> {
        if let Some((pack, entry)) = self.reader.locate(id)
            && let Some((bytes, decoded)) = self
                .reader
                .state
                .borrow()
                .kept
                .get(&(pack.pack.id, entry.data_offset))
        {
            return Ok(Some(Header {
                kind: decoded.kind,
                size: bytes.len() as u64,
            }));
        }
        self.objects.try_header(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(kept: &Kept<u8, ()>, key: u8) -> Option<&[u8]> {
        kept.get(&key).map(|(bytes, ())| bytes)
    }

    #[test]
    fn a_new_blob_overwrites_the_oldest_when_the_ring_is_full() {
        let mut kept = Kept::with_budget(10);
        kept.keep(1, b"aaa", ());
        kept.keep(2, b"bbb", ());
        kept.keep(3, b"ccc", ());
        assert_eq!(get(&kept, 1), Some(&b"aaa"[..]));
        kept.keep(4, b"ddddd", ());
        assert_eq!((get(&kept, 1), get(&kept, 2)), (None, None));
        assert_eq!(get(&kept, 3), Some(&b"ccc"[..]), "not overwritten yet");
        assert_eq!(get(&kept, 4), Some(&b"ddddd"[..]));
        kept.keep(5, b"eeeeee", ());
        assert_eq!(get(&kept, 3), None, "the end of the ring goes first");
        assert_eq!(get(&kept, 4), None, "overwritten");
        assert_eq!(get(&kept, 5), Some(&b"eeeeee"[..]));
        assert_eq!(kept.at.len(), kept.order.len());
    }

    #[test]
    fn a_blob_larger_than_the_ring_is_not_kept() {
        let mut kept = Kept::with_budget(4);
        kept.keep(1, b"aaaa", ());
        kept.keep(2, b"bbbbb", ());
        assert_eq!(get(&kept, 1), Some(&b"aaaa"[..]));
        assert_eq!(get(&kept, 2), None);
    }
}
