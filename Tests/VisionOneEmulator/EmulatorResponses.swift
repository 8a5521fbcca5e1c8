import Foundation

// The emulator's answers: pages of a list as the API pages them, the values it reads from a
// request's body, and its success and error bodies.
extension VisionOneEmulator {
    func list(_ request: EmulatedRequest, items: [JSON]) -> EmulatedResponse {
        let top: Int
        if let text = request.query["top"] {
            guard let value = Int(text), [25, 50, 100].contains(value) else {
                return Self.failure(400, "InvalidParameter", "top must be 25, 50 or 100")
            }
            top = value
        } else {
            top = 25
        }
        var offset = 0
        if let token = request.query["skipToken"] {
            guard let data = Data(base64Encoded: token) ?? Data(base64Encoded: token.removingPercentEncoding ?? ""), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix("offset:"), let value = Int(text.dropFirst(7)), value >= 0
            else {
                return Self.failure(400, "InvalidParameter", "skipToken is not valid")
            }
            offset = value
        }
        let page = Array(items.dropFirst(offset).prefix(top))
        var body: [String: JSON] = [
            "items": .array(page), "totalCount": .number(Double(items.count)), "count": .number(Double(page.count)),
        ]
        if offset + top < items.count {
            let token = Data("offset:\(offset + top)".utf8).base64EncodedString()
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            body["nextLink"] = .string("http://\(nextLinkHost ?? request.host)\(request.path)?top=\(top)&skipToken=\(token)")
        }
        return Self.ok(.object(body))
    }

    func newestFirst<T>(_ left: T, _ right: T) -> Bool where T: Sequenced {
        (left.created, left.sequence) > (right.created, right.sequence)
    }

    func sortedPolicies() -> [Policy] { policies.values.sorted(by: newestFirst) }
    func sortedRulesets() -> [Ruleset] { rulesets.values.sorted(by: newestFirst) }

    // MARK: Values and answers

    /// Nil for absent or null, `.some(nil)` for a value of the wrong type.
    func optionalString(_ value: JSON?) -> String?? {
        guard let value, !value.isNull else { return .some(nil) }
        if let text = value.string { return .some(text) }
        return nil
    }

    func optionalBool(_ value: JSON?) -> Bool?? {
        guard let value, !value.isNull else { return .some(nil) }
        if let flag = value.bool { return .some(flag) }
        return nil
    }

    static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.count <= 64 else { return "name must be 1 to 64 characters" }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == ".") }) else {
            return "name may contain only letters, digits, '_' and '.'"
        }
        return nil
    }

    func notFound() -> EmulatedResponse { Self.failure(404, "NotFound", "The object does not exist") }

    static func ok(_ json: JSON) -> EmulatedResponse { EmulatedResponse(status: 200, body: json.data) }

    static func failure(_ status: Int, _ code: String, _ message: String) -> EmulatedResponse {
        EmulatedResponse(status: status, body: error(code, message))
    }

    /// The error code and message of a scripted failure's body.
    static func errorText(_ status: Int) -> (String, String) {
        switch status {
        case 400: return ("BadRequest", "The request is not valid")
        case 401: return ("Unauthorized", "The API key is invalid or missing")
        case 403: return ("AccessDenied", "Insufficient permissions")
        case 404: return ("NotFound", "The object does not exist")
        case 429: return ("TooManyRequests", "Too Many API requests")
        case 504: return ("GatewayTimeout", "The request timed out")
        default: return ("InternalServerError", "Internal error")
        }
    }

    static func error(_ code: String, _ message: String) -> Data {
        JSON.object(["error": ["code": .string(code), "message": .string(message)]]).data
    }
}

protocol Sequenced {
    var created: String { get }
    var sequence: Int { get }
}

extension VisionOneEmulator.Policy: Sequenced {}
extension VisionOneEmulator.Ruleset: Sequenced {}
extension VisionOneEmulator.Cluster: Sequenced {}
