/// The library's order and equality of names, for the baselines that sort ruleset names in
/// Swift: as the schema's NOCASE collation (ASCII letters without case), names equal that way
/// by their bytes. Names are ASCII (the schema's CHECKs), so bytes are enough.
enum NameOrder {
    static func precedes(_ left: some Sequence<UInt8>, _ right: some Sequence<UInt8>) -> Bool {
        var leftBytes = left.makeIterator()
        var rightBytes = right.makeIterator()
        var byBytes: Bool?
        while true {
            switch (leftBytes.next(), rightBytes.next()) {
            case (nil, nil): return byBytes ?? false
            case (nil, _): return true
            case (_, nil): return false
            case let (leftByte?, rightByte?):
                let (leftFolded, rightFolded) = (foldCase(leftByte), foldCase(rightByte))
                if leftFolded != rightFolded { return leftFolded < rightFolded }
                if byBytes == nil, leftByte != rightByte { byBytes = leftByte < rightByte }
            }
        }
    }

    static func sorted(_ names: [String]) -> [String] {
        names.sorted { precedes($0.utf8, $1.utf8) }
    }

    static func same(_ left: String, _ right: String) -> Bool {
        left.utf8.elementsEqual(right.utf8) { foldCase($0) == foldCase($1) }
    }

    private static func foldCase(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }
}
