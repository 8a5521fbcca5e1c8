import Foundation
import SQLiteCore

extension Row {
    /// The timestamp in `column`; when it is not one, the Unix epoch, with the stored text
    /// added to `damage`.
    func timestamp(_ column: Int32, location: String, damage: inout [StoredDamage]) -> Date {
        if let date = withUTF8(column, Timestamp.date(fromUTF8:)) { return date }
        damage.append(StoredDamage(
            location: location, value: optionalText(column) ?? "NULL",
            problem: "is not a UTC timestamp like 2026-11-29T05:07:21.123Z"))
        return Date(timeIntervalSince1970: 0)
    }
}
