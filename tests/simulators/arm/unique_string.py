"""ARM's uniqueString(): a 64-bit two-lane Murmur-style hash of the arguments joined with '-', as 13 base32 letters.

Constants and steps as /work/shared/facts/AZURE.md §1.3 describes them (checked there against published vectors).
"""

MASK = 0xFFFFFFFF
C1, C2 = 597399067, 2869860233
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & MASK


def _fmix(value: int) -> int:
    value ^= value >> 16
    value = (value * 2246822507) & MASK
    value ^= value >> 13
    value = (value * 3266489909) & MASK
    return value ^ (value >> 16)


def _lane1(k1: int) -> int:
    return (_rotl((k1 * C1) & MASK, 15) * C2) & MASK


def _lane2(k2: int) -> int:
    return (_rotl((k2 * C2) & MASK, 17) * C1) & MASK


def hash64(data: bytes) -> int:
    """The 64-bit hash of `data`."""
    h1 = h2 = 0
    whole = len(data) - len(data) % 8
    for start in range(0, whole, 8):
        k1 = int.from_bytes(data[start:start + 4], "little")
        k2 = int.from_bytes(data[start + 4:start + 8], "little")
        h1 = _rotl(h1 ^ _lane1(k1), 19)
        h1 = ((((h1 + h2) & MASK) * 5) + 1444728091) & MASK
        h2 = _rotl(h2 ^ _lane2(k2), 13)
        h2 = ((((h2 + h1) & MASK) * 5) + 197830471) & MASK
    tail = data[whole:]
    if tail:
        h1 ^= _lane1(int.from_bytes(tail[:4], "little"))
        if len(tail) > 4:
            h2 ^= _lane2(int.from_bytes(tail[4:], "little"))
    h1 ^= len(data)
    h2 ^= len(data)
    h1 = (h1 + h2) & MASK
    h2 = (h2 + h1) & MASK
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & MASK
    h2 = (h2 + h1) & MASK
    return (h2 << 32) | h1


def unique_string(*parts: str) -> str:
    """uniqueString(parts...)."""
    value = hash64("-".join(parts).encode())
    letters = []
    for _ in range(13):
        letters.append(ALPHABET[value >> 59])
        value = (value << 5) & 0xFFFFFFFFFFFFFFFF
    return "".join(letters)
