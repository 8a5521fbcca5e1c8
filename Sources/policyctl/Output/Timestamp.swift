import Foundation

/// A date as the schema writes it: UTC ISO-8601 with milliseconds, `2026-11-29T05:07:21.123Z`.
///
/// Rounded to the millisecond: the library's dates come from that text, and a formatter that
/// truncates would turn .123 into .122 when the binary fraction falls just short.
func utcTimestamp(_ date: Date) -> String {
    let milliseconds = Int64((date.timeIntervalSince1970 * 1_000).rounded())
    let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1_000)
    var time = time_t(fraction < 0 ? seconds - 1 : seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    return String(
        format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
        parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
        Int32(fraction < 0 ? fraction + 1_000 : fraction))
}
