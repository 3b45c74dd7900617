//! Blobs read for line counts, remembered for a while.
//!
//! Many blobs are read twice: a file's version is the new side of the commit that wrote
//! it and the old side of the next commit that changed it, and rename detection reads the
//! blobs it compares before their lines are counted. Reading a blob (inflating it, resolving
//! its delta chain) is most of a diff's cost, so the last blobs read are kept, up to a
//! budget in bytes, oldest dropped first. Blobs are kept by id, so whatever asks for one
//! gets the bytes the object database holds: path-dependent settings (attributes) still
//! apply as before.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;

use gix::ObjectId;
use gix::hash::oid;
use gix::objs::{Data, Find, FindHeader, Header, Kind};

/// Bytes of blobs kept per thread: see docs/benchmarks.md for how it was chosen.
const BUDGET: usize = 8 << 20;

pub(super) struct BlobMemo {
    kept: RefCell<Kept>,
}

/// Blobs written one after another into one buffer, wrapping around at its end, each
/// overwriting the oldest: memory is the budget, allocated once, not a buffer per blob.
struct Kept {
    ring: Vec<u8>,
    budget: usize,
    at: HashMap<ObjectId, Range<usize>>,
    /// The blobs in `ring`, the oldest first.
    order: VecDeque<(ObjectId, Range<usize>)>,
    /// Where the next blob goes.
    end: usize,
}

impl BlobMemo {
    pub fn new() -> Self {
        Self {
            kept: RefCell::new(Kept::with_budget(BUDGET)),
        }
    }

    /// `objects`, answering from this memo first and remembering the blobs it reads.
    pub fn over<'a, T>(&'a self, objects: &'a T) -> Remembering<'a, T> {
        Remembering {
            objects,
            memo: self,
        }
    }
}

impl Kept {
    fn with_budget(budget: usize) -> Self {
        Self {
            ring: Vec::new(),
            budget,
            at: HashMap::new(),
            order: VecDeque::new(),
            end: 0,
        }
    }

    fn get(&self, id: &oid) -> Option<&[u8]> {
        self.at.get(id).map(|range| &self.ring[range.clone()])
    }

    fn keep(&mut self, id: &oid, data: &[u8]) {
        if data.len() > self.budget || self.at.contains_key(id) {
            return;
        }
        if self.ring.is_empty() {
            // Zeroed memory is mapped lazily: pages count only once written.
            self.ring = vec![0; self.budget];
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
        self.at.insert(id.to_owned(), range.clone());
        self.order.push_back((id.to_owned(), range));
    }

    fn drop_oldest_while(&mut self, overwritten: impl Fn(&Range<usize>) -> bool) {
        while let Some((id, range)) = self.order.front()
            && overwritten(range)
        {
            self.at.remove(id);
            self.order.pop_front();
        }
    }
}

/// An object database whose blob reads go through a [`BlobMemo`].
pub(super) struct Remembering<'a, T> {
    objects: &'a T,
    memo: &'a BlobMemo,
}

impl<T: Find> Find for Remembering<'_, T> {
    fn try_find<'a>(&self, id: &oid, buffer: &'a mut Vec<u8>) -> gix::Result<Option<Data<'a>>> {
        let is_kept = match self.memo.kept.borrow().get(id) {
            Some(blob) => {
                buffer.clear();
                buffer.extend_from_slice(blob);
                true
            }
            None => false,
        };
        if is_kept {
            return Ok(Some(Data {
                kind: Kind::Blob,
                object_hash: id.kind(),
                data: buffer,
            }));
        }
        let found = self.objects.try_find(id, buffer)?;
        if let Some(data) = &found
            && data.kind == Kind::Blob
        {
            self.memo.kept.borrow_mut().keep(id, data.data);
        }
        Ok(found)
    }
}

impl<T: FindHeader> FindHeader for Remembering<'_, T> {
    fn try_header(&self, id: &oid) -> gix::Result<Option<Header>> {
        if let Some(blob) = self.memo.kept.borrow().get(id) {
            return Ok(Some(Header {
                kind: Kind::Blob,
                size: blob.len() as u64,
            }));
        }
        self.objects.try_header(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    #[test]
    fn a_new_blob_overwrites_the_oldest_when_the_ring_is_full() {
        let mut kept = Kept::with_budget(10);
        kept.keep(&id(1), b"aaa");
        kept.keep(&id(2), b"bbb");
        kept.keep(&id(3), b"ccc");
        assert_eq!(kept.get(&id(1)), Some(&b"aaa"[..]));
        kept.keep(&id(4), b"ddddd");
        assert_eq!((kept.get(&id(1)), kept.get(&id(2))), (None, None));
        assert_eq!(kept.get(&id(3)), Some(&b"ccc"[..]), "not overwritten yet");
        assert_eq!(kept.get(&id(4)), Some(&b"ddddd"[..]));
        kept.keep(&id(5), b"eeeeee");
        assert_eq!(kept.get(&id(3)), None, "the end of the ring goes first");
        assert_eq!(kept.get(&id(4)), None, "overwritten");
        assert_eq!(kept.get(&id(5)), Some(&b"eeeeee"[..]));
        assert_eq!(kept.at.len(), kept.order.len());
    }

    #[test]
    fn a_blob_larger_than_the_ring_is_not_kept() {
        let mut kept = Kept::with_budget(4);
        kept.keep(&id(1), b"aaaa");
        kept.keep(&id(2), b"bbbbb");
        assert_eq!(kept.get(&id(1)), Some(&b"aaaa"[..]));
        assert_eq!(kept.get(&id(2)), None);
    }
}
