import Synchronization

/// The in-process tier (L1): entries bounded by total bytes and count, evicted with SIEVE
/// (Zhang et al., NSDI '24).
///
/// Why SIEVE and not LRU: a hit only sets a "visited" bit — no list reordering — so a hit is
/// cheaper under the lock than LRU's move-to-front, and on web-style skewed workloads SIEVE's
/// miss ratio is at or below LRU's: a one-off scan (an assistant paging through a big table once)
/// passes through without pushing out the entries that are used again and again. Eviction walks a
/// "hand" from the oldest entry towards the newest, clearing visited bits, and evicts the first
/// entry not visited since the hand last passed it. Hand-written: no Swift package provides it.
final class SieveStore: Sendable {
    private struct Node {
        let key: String
        var entry: CacheEntry
        var visited = false
        /// Towards the newer end / the older end; -1 for none.
        var newer = -1
        var older = -1
    }

    private struct State {
        var nodes: [Node?] = []
        var free: [Int] = []
        var index: [String: Int] = [:]
        /// Newest and oldest nodes; -1 when empty.
        var head = -1
        var tail = -1
        var hand = -1
        var bytes = 0
    }

    /// Why an entry left.
    enum Removal: String, Sendable {
        case capacity, expired, invalidated, flushed
    }

    let maxBytes: Int
    let maxEntries: Int
    private let state = Mutex(State())

    init(maxBytes: Int, maxEntries: Int) {
        self.maxBytes = maxBytes
        self.maxEntries = max(1, maxEntries)
    }

    /// Entries and bytes held.
    var usage: (entries: Int, bytes: Int) { state.withLock { ($0.index.count, $0.bytes) } }

    /// The entry for `key` (marked visited), if present.
    func get(_ key: String) -> CacheEntry? {
        state.withLock { state in
            guard let slot = state.index[key] else { return nil }
            state.nodes[slot]!.visited = true
            return state.nodes[slot]!.entry
        }
    }

    /// Stores `entry` (replacing an entry of the same key); returns the entries evicted to make
    /// room. An entry bigger than the whole store is not stored.
    @discardableResult
    func insert(_ key: String, _ entry: CacheEntry) -> [CacheEntry] {
        guard entry.bytes <= maxBytes else { return [] }
        return state.withLock { state in
            if let slot = state.index[key] {
                state.bytes += entry.bytes - state.nodes[slot]!.entry.bytes
                state.nodes[slot]!.entry = entry
                state.nodes[slot]!.visited = true
                var evicted: [CacheEntry] = []
                while state.bytes > maxBytes, let victim = Self.evict(&state, sparing: slot) { evicted.append(victim) }
                return evicted
            }
            var evicted: [CacheEntry] = []
            while state.bytes + entry.bytes > maxBytes || state.index.count >= maxEntries, let victim = Self.evict(&state, sparing: -1) {
                evicted.append(victim)
            }
            let node = Node(key: key, entry: entry, newer: -1, older: state.head)
            let slot: Int
            if let reused = state.free.popLast() {
                slot = reused
                state.nodes[slot] = node
            } else {
                slot = state.nodes.count
                state.nodes.append(node)
            }
            if state.head >= 0 { state.nodes[state.head]!.newer = slot }
            state.head = slot
            if state.tail < 0 { state.tail = slot }
            state.index[key] = slot
            state.bytes += entry.bytes
            return evicted
        }
    }

    /// Removes `key` if present.
    @discardableResult
    func remove(_ key: String) -> CacheEntry? {
        state.withLock { state in
            guard let slot = state.index[key] else { return nil }
            return Self.unlink(&state, slot)
        }
    }

    /// Removes every entry `predicate` selects; returns them.
    func removeAll(where predicate: (CacheEntry) -> Bool) -> [CacheEntry] {
        state.withLock { state in
            let slots = state.index.values.filter { predicate(state.nodes[$0]!.entry) }
            return slots.map { Self.unlink(&state, $0) }
        }
    }

    /// SIEVE: from the hand (or the oldest entry) towards newer ones, clear visited bits until an
    /// unvisited entry is found; evict it and leave the hand at the next newer one.
    private static func evict(_ state: inout State, sparing spared: Int) -> CacheEntry? {
        guard state.tail >= 0, state.index.count > (spared >= 0 ? 1 : 0) else { return nil }
        var slot = state.hand >= 0 ? state.hand : state.tail
        while state.nodes[slot]!.visited || slot == spared {
            state.nodes[slot]!.visited = false
            slot = state.nodes[slot]!.newer >= 0 ? state.nodes[slot]!.newer : state.tail
        }
        let next = state.nodes[slot]!.newer
        let entry = unlink(&state, slot)
        state.hand = next
        return entry
    }

    private static func unlink(_ state: inout State, _ slot: Int) -> CacheEntry {
        let node = state.nodes[slot]!
        if node.newer >= 0 { state.nodes[node.newer]!.older = node.older } else { state.head = node.older }
        if node.older >= 0 { state.nodes[node.older]!.newer = node.newer } else { state.tail = node.newer }
        if state.hand == slot { state.hand = node.newer }
        state.index[node.key] = nil
        state.nodes[slot] = nil
        state.free.append(slot)
        state.bytes -= node.entry.bytes
        return node.entry
    }
}
