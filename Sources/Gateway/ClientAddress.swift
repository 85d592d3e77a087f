import Config
import HTTPCodec

/// Decides who the client is: the socket's peer, unless that peer is a trusted proxy, in which case
/// `X-Forwarded-For` is read from the right, skipping trusted hops, up to the first address that is not.
enum ClientAddress {
    /// The client's address for limits, bans and audit.
    /// The result is canonical (see `ClientKey`), so respellings of one address are one client.
    static func resolve(_ headers: HTTPHeaders, peer: String, trusted: CIDRList) -> String {
        guard !trusted.isEmpty, trusted.contains(ipText: peer) else { return canonicalPeer(peer) }
        return believedChain(headers, peer: peer, trusted: trusted).first ?? canonicalPeer(peer)
    }

    /// Socket peers are already canonical, except IPv6 text and IPv4-mapped addresses from dual-stack sockets.
    private static func canonicalPeer(_ peer: String) -> String {
        peer.utf8.contains(UInt8(ascii: ":")) ? ClientKey.canonical(peer) : peer
    }

    /// The `X-Forwarded-For` value to send upstream: the believed part of the chain, then the peer.
    static func forwardedFor(_ headers: HTTPHeaders, peer: String, trusted: CIDRList) -> String {
        guard !trusted.isEmpty, trusted.contains(ipText: peer) else { return peer }
        return (believedChain(headers, peer: peer, trusted: trusted) + [peer]).joined(separator: ", ")
    }

    /// The hops a trusted peer vouches for, client first: everything right of (and including) the
    /// first untrusted address, read from the right. A malformed entry ends the walk.
    private static func believedChain(_ headers: HTTPHeaders, peer: String, trusted: CIDRList) -> [String] {
        var hops: [Substring] = []
        for value in headers.all("X-Forwarded-For") {
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                hops.append(part.trimmingSpaces())
            }
        }
        var believed: [String] = []
        for hop in hops.reversed() {
            let address = String(hop)
            guard IPAddressText.isValid(address) else { break }
            believed.insert(ClientKey.canonical(address), at: 0)
            if !trusted.contains(ipText: address) { break }
        }
        return believed
    }
}
