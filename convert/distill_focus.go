package convert

// pairing is what one round's SNN episodes and the teacher's greedy episodes
// from the same initial states say about each other.
type pairing struct {
	// Focus holds the decisive states (SNN and teacher rows) and their
	// teacher labels.
	Focus  []float32
	Labels []int
	// LengthDiffers is the share of pairs whose lengths differ, Ratio the
	// SNN's mean return over the teacher's.
	LengthDiffers, Ratio float64
}

// episodeBounds returns episode i's rows [start, end) in rec.
func episodeBounds(rec *Recording, i int) (int, int) {
	end := rec.Rows()
	if i+1 < len(rec.EpisodeStarts) {
		end = rec.EpisodeStarts[i+1]
	}
	return rec.EpisodeStarts[i], end
}

// pairEpisodes compares the SNN's episodes (actor) with the teacher's own
// (teacher) played from the same initial states, episode by episode. Where
// the lengths differ, it collects the actor's states within window steps of
// its first action that is not the teacher's (before it the two episodes
// are the same) and the teacher's last tail states before its episode ends:
// the states that decide the return.
func pairEpisodes(actor, teacher *Recording, window, tail int) pairing {
	var p pairing
	n := min(len(actor.EpisodeStarts), len(teacher.EpisodeStarts))
	differ := 0
	width := actor.Width
	add := func(rec *Recording, lo, hi int) {
		p.Focus = append(p.Focus, rec.States[lo*width:hi*width]...)
		p.Labels = append(p.Labels, rec.Actions[lo:hi]...)
	}
	for i := 0; i < n; i++ {
		as, ae := episodeBounds(actor, i)
		ts, te := episodeBounds(teacher, i)
		if ae-as == te-ts {
			continue
		}
		differ++
		first := ae
		for j := as; j < ae; j++ {
			if actor.Taken[j] != actor.Actions[j] {
				first = j
				break
			}
		}
		if first < ae {
			add(actor, max(first-window, as), min(first+window+1, ae))
		}
		add(teacher, max(te-tail, ts), te)
	}
	if n > 0 {
		p.LengthDiffers = float64(differ) / float64(n)
	}
	sa, _ := MeanStd(actor.Returns)
	st, _ := MeanStd(teacher.Returns)
	p.Ratio = 1
	if st != 0 {
		p.Ratio = sa / st
	}
	return p
}
