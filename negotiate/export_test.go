package negotiate

import "unsafe"

// MediaQuality is the weight (thousandths) the Accept field value gives the
// offer, and false when no range matches it.
func MediaQuality(accept, offer string) (int, bool) {
	o, ok := parseMediaOffer(offer)
	if !ok {
		return 0, false
	}
	sc := []score{{}}
	scoreMedia([]string{accept}, []mediaOffer{o}, sc)
	return int(sc[0].q), sc[0].spec >= 0
}

// LanguageQuality is the weight the Accept-Language value gives the offer.
func LanguageQuality(acceptLanguage, offer string, lookupOnly bool) (int, bool) {
	sc := []score{{}}
	scoreLanguages([]string{acceptLanguage}, []string{offer}, lookupOnly, sc)
	return int(sc[0].q), sc[0].spec >= 0
}

// ValueSize is the size of the per-request value (its one allocation).
const ValueSize = unsafe.Sizeof(value{})
