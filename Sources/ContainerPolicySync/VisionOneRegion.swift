import Foundation

/// The regions of Trend Vision One, each with the API endpoint its tenants use (the
/// automation guide's "Regional domains"). A tenant answers only at its own region's
/// endpoint: another region's answers `401`.
///
/// ```swift
/// let client = try VisionOneClient(baseURL: VisionOneRegion.eu.baseURL, token: token)
/// print(VisionOneRegion.jp.baseURL)   // https://api.xdr.trendmicro.co.jp
/// ```
public enum VisionOneRegion: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Australia.
    case au
    /// Germany (Europe).
    case eu
    /// India.
    case `in`
    /// Japan.
    case jp
    /// United Arab Emirates (Middle East and Africa).
    case mea
    /// Singapore.
    case sg
    /// United Kingdom.
    case uk
    /// United States.
    case us
    /// United States, for government.
    case usgov

    /// The host of the region's API.
    public var host: String {
        switch self {
        case .us: return "api.xdr.trendmicro.com"
        case .jp: return "api.xdr.trendmicro.co.jp"
        default: return "api.\(rawValue).xdr.trendmicro.com"
        }
    }

    /// `https://` and the host: what ``VisionOneClient/init(baseURL:token:configuration:)``
    /// takes.
    public var baseURL: URL {
        // The host is one of the literals above, so the URL always parses.
        URL(string: "https://" + host)!
    }

    public var description: String { rawValue }
}
