"""bencode for tests: encode, strict decode."""



# ---------------------------------------------------------------- bencode

def bencode(obj):
    """Encodes int, bytes, str (UTF-8), list/tuple and dict (keys bytes or
    str, sorted as raw bytes)."""
    out = []
    _benc(obj, out)
    return b"".join(out)


def _benc(obj, out):
    if isinstance(obj, bool):
        raise TypeError("bool is not bencodable")
    if isinstance(obj, int):
        out.append(b"i%de" % obj)
    elif isinstance(obj, (bytes, bytearray)):
        out.append(b"%d:" % len(obj))
        out.append(bytes(obj))
    elif isinstance(obj, str):
        _benc(obj.encode(), out)
    elif isinstance(obj, (list, tuple)):
        out.append(b"l")
        for x in obj:
            _benc(x, out)
        out.append(b"e")
    elif isinstance(obj, dict):
        items = [(k.encode() if isinstance(k, str) else bytes(k), v) for k, v in obj.items()]
        items.sort(key=lambda kv: kv[0])
        out.append(b"d")
        for k, v in items:
            _benc(k, out)
            _benc(v, out)
        out.append(b"e")
    else:
        raise TypeError("cannot bencode %r" % type(obj))


class BencodeError(ValueError):
    pass


def bdecode(data, strict=True):
    """Decodes one bencoded value that must span all of data. Strings come
    back as bytes, dict keys as bytes. strict also rejects non-canonical
    forms (unsorted or duplicate keys, leading zeros, -0)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("bdecode wants bytes")
    data = bytes(data)
    val, pos = _bdec(data, 0, strict, 0)
    if pos != len(data):
        raise BencodeError("trailing data at offset %d" % pos)
    return val


def _bint(data, pos, end, strict):
    s = data[pos:end]
    if not s or not (s.isdigit() or (s[:1] == b"-" and s[1:].isdigit())):
        raise BencodeError("bad integer %r at %d" % (s[:20], pos))
    if strict and (s == b"-0" or (len(s) > 1 and s[0:1] == b"0") or s[:2] == b"-0"):
        raise BencodeError("non-canonical integer %r at %d" % (s[:20], pos))
    return int(s)


def _bdec(data, pos, strict, depth):
    if depth > 64:
        raise BencodeError("nesting too deep")
    if pos >= len(data):
        raise BencodeError("truncated at %d" % pos)
    c = data[pos:pos + 1]
    if c == b"i":
        end = data.find(b"e", pos)
        if end < 0:
            raise BencodeError("unterminated integer at %d" % pos)
        return _bint(data, pos + 1, end, strict), end + 1
    if c == b"l":
        pos += 1
        out = []
        while data[pos:pos + 1] != b"e":
            v, pos = _bdec(data, pos, strict, depth + 1)
            out.append(v)
        return out, pos + 1
    if c == b"d":
        pos += 1
        out = {}
        last = None
        while data[pos:pos + 1] != b"e":
            if pos >= len(data):
                raise BencodeError("unterminated dict")
            if not data[pos:pos + 1].isdigit():
                raise BencodeError("dict key is not a string at %d" % pos)
            k, pos = _bdec(data, pos, strict, depth + 1)
            if strict and last is not None and k <= last:
                raise BencodeError("dict keys unsorted or duplicated at %r" % k)
            last = k
            v, pos = _bdec(data, pos, strict, depth + 1)
            out[k] = v
        return out, pos + 1
    if c.isdigit():
        colon = data.find(b":", pos)
        if colon < 0:
            raise BencodeError("unterminated string length at %d" % pos)
        n = _bint(data, pos, colon, strict)
        if n < 0 or colon + 1 + n > len(data):
            raise BencodeError("string length %d past end at %d" % (n, pos))
        return data[colon + 1:colon + 1 + n], colon + 1 + n
    raise BencodeError("unexpected byte %r at %d" % (c, pos))
