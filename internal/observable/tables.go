package observable

// ccTLDs holds the two-letter country-code top-level domains delegated in
// the root zone (ISO 3166-1 alpha-2 plus ac, eu, su and uk), sorted, two
// bytes each with no separator.
const ccTLDs = "" +
	"acadaeafagaialamaoaqarasatauawaxazbabbbdbebfbgbhbibjbmbnbobr" +
	"bsbtbvbwbybzcacccdcfcgchcickclcmcncocrcucvcwcxcyczdedjdkdmdo" +
	"dzeceeegereseteufifjfkfmfofrgagbgdgegfggghgiglgmgngpgqgrgsgt" +
	"gugwgyhkhmhnhrhthuidieiliminioiqirisitjejmjojpkekgkhkikmknkp" +
	"krkwkykzlalblclilklrlsltlulvlymamcmdmemgmhmkmlmmmnmompmqmrms" +
	"mtmumvmwmxmymznancnenfngninlnonpnrnunzompapepfpgphpkplpmpnpr" +
	"psptpwpyqarerorsrurwsasbscsdsesgshsisjskslsmsnsosrssstsusvsx" +
	"sysztctdtftgthtjtktltmtntotrtttvtwtzuaugukusuyuzvavcvevgvivn" +
	"vuwfwsyeytzazmzw"

// isCCTLD reports whether s, lower-case, is a country-code TLD.
func isCCTLD(s string) bool {
	if len(s) != 2 {
		return false
	}
	lo, hi := 0, len(ccTLDs)/2
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		c := ccTLDs[2*mid : 2*mid+2]
		switch {
		case c == s:
			return true
		case c < s:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return false
}

// isGTLD reports whether s, lower-case, is one of the generic TLDs common
// enough in incident reports to be worth recognising, or the reserved
// "example" TLD used in documentation and fixtures. The other reserved
// names ("test", "invalid", "localhost") and private-use ones ("local",
// "internal", "corp", "lan", "home") are deliberately absent.
func isGTLD(s string) bool {
	switch s {
	case "com", "net", "org", "info", "biz", "gov", "edu", "mil", "int",
		"app", "dev", "xyz", "top", "online", "site", "club", "shop",
		"store", "tech", "live", "life", "world", "today", "news", "blog",
		"cloud", "page", "link", "click", "space", "website", "icu", "vip",
		"win", "bid", "loan", "work", "party", "stream", "download",
		"racing", "review", "date", "faq", "trade", "science", "men",
		"pro", "mobi", "name", "asia", "tel", "jobs", "travel", "cat",
		"post", "xxx", "email", "support", "services", "digital",
		"network", "systems", "agency", "host", "fun", "best", "buzz",
		"cyou", "sbs", "cfd", "rest", "monster", "quest", "lol", "bond",
		"help", "finance", "one", "zip", "mov", "onion", "example":
		return true
	}
	return false
}

// knownTLD reports whether s, lower-case, is a TLD Extract accepts.
func knownTLD(s string) bool {
	return isCCTLD(s) || isGTLD(s)
}

// isRiskyExt reports whether s, lower-case, is a file extension of the kind
// that carries malware: executables, scripts, installers, shortcuts,
// archives and disk images, and documents that can carry macros or
// exploits. A dotted name ending in one of them is a filename, not a domain,
// even where the extension is also a TLD (sh, zip, so).
func isRiskyExt(s string) bool {
	switch s {
	case "exe", "dll", "scr", "pif", "bat", "cmd", "ps1", "psm1", "vbs",
		"vbe", "js", "jse", "wsf", "wsh", "hta", "msi", "msp", "msc",
		"msix", "appx", "lnk", "url", "cpl", "jar", "apk", "dmg", "iso",
		"img", "vhd", "vhdx", "zip", "rar", "7z", "gz", "tgz", "tar",
		"cab", "ace", "arj", "doc", "docx", "docm", "dotm", "xls", "xlsx",
		"xlsm", "xlsb", "xlam", "xll", "iqy", "slk", "ppt", "pptx",
		"pptm", "rtf", "pdf", "one", "chm", "reg", "scf", "html", "htm",
		"svg", "sh", "py", "so", "elf":
		return true
	}
	return false
}

// isQuietExt reports whether s, lower-case, is a harmless file extension
// that is also a ccTLD and common enough in text ("README.md") that a name
// ending in it is reported as nothing rather than as a domain.
func isQuietExt(s string) bool {
	return s == "md"
}
