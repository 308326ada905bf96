//! Classification: turns a host or URL into the categories that lists put it in.
//!
//! * [`canon`] canonicalises hosts and URLs. It is a security boundary: two
//!   spellings of one address must meet the same list entry.
//! * [`taxonomy`] is schoolgate's own category set, with the mapping from UT1.
//! * [`lists`] imports list files (UT1 layout, plain domains, hosts files, URLs).
//! * [`index`] is the compiled, saveable index that answers lookups fast.
//! * [`statutory`] holds the IWF and CTIRU lists, which are matched before
//!   anything else and whose contents are never shown.
//! * [`synthetic`] makes up lists and requests shaped like real ones, so the
//!   benchmarks can measure an index of millions of entries.
//!
//! Nothing here is async and the only I/O is reading and writing files.

pub mod canon;
pub mod index;
pub mod lists;
pub mod statutory;
pub mod synthetic;
pub mod taxonomy;
