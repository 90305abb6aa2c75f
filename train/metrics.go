package train

import (
	"bufio"
	"io"
	"math"
	"strconv"
)

// MetricsHeader is the first line of metrics.csv.
const MetricsHeader = "step,episode,return,loss,epsilon,eval"

// WriteMetricsCSV writes rows as CSV with MetricsHeader; missing values
// (NaN) are empty fields. Floats use the shortest exact representation, so
// identical runs give identical files.
func WriteMetricsCSV(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(MetricsHeader + "\n")
	var line []byte
	for _, r := range rows {
		line = line[:0]
		line = strconv.AppendInt(line, r.Step, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(r.Episode), 10)
		for _, v := range []float64{r.Return, r.Loss, r.Epsilon, r.Eval} {
			line = append(line, ',')
			if !math.IsNaN(v) {
				line = strconv.AppendFloat(line, v, 'g', -1, 64)
			}
		}
		line = append(line, '\n')
		bw.Write(line)
	}
	return bw.Flush()
}
