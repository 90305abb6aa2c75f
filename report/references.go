package report

// Reference is a published figure shown beside ours: an action agreement
// (a fraction, 0-1) at Timesteps steps per decision.
type Reference struct {
	Name      string
	Timesteps int
	Agreement float64
}

// DSQNReferences are the DSQN paper's own-trajectory action agreements at
// T = 100: 60.7 % for a converted DQN and 94.2 % for a converted classifier.
// The agreement plots and the pipeline report draw and quote them, in this
// order.
var DSQNReferences = []Reference{
	{Name: "DSQN paper, DQN conversion (T=100)", Timesteps: 100, Agreement: 0.607},
	{Name: "DSQN paper, classifier (T=100)", Timesteps: 100, Agreement: 0.942},
}
