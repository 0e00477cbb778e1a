package onair

// MetadataUpdate is an owner's change to what a live station announces.
// A nil field is left as it is; an empty string clears it.
type MetadataUpdate struct {
	Title  *string `json:"title,omitempty"`
	Artist *string `json:"artist,omitempty"`
	Show   *string `json:"show,omitempty"`
}
