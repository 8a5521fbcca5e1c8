/// Whether a character can change what a terminal shows rather than show itself: control
/// characters (C0, DEL, C1: escape sequences, carriage returns, line feeds, backspaces),
/// format characters (the bidi overrides and isolates such as U+202E, zero-width ones) and
/// the line and paragraph separators U+2028 and U+2029.
func isHostileInTerminal(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator: true
    default: false
    }
}

/// Text as policyctl prints it in text output: the one rendering every value read from the
/// database (names, descriptions, rule IDs, ARNs, actors), or given on the command line,
/// goes through before it reaches a terminal, so that no value can move the cursor, clear
/// the screen, reorder a line or start a line of its own (and so pass for a row of a table).
///
/// Each hostile character (`isHostileInTerminal`) is written as an escape, `\t`, `\n` and
/// `\r` for the common ones and `\u{1B}` (hexadecimal code point) for the others; the rest
/// is unchanged. A backslash stays as it is: the text output is for reading, and `--json`
/// has the exact text.
func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isHostileInTerminal) else { return text }
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\t": result += "\\t"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case _ where isHostileInTerminal(scalar): result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}

/// A name in a message policyctl writes itself, as the library writes names in its
/// messages: in double quotes, made safe for a terminal.
func quotedName(_ name: String) -> String {
    "\"" + terminalSafe(name) + "\""
}
