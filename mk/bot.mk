# Rasa bot: venv, training, tests, servers. Included by the top-level Makefile; also usable alone:
#   make -f mk/bot.mk validate train test-bot
# The bot needs Python 3.10 (rasa 3.6.21 pins Python < 3.11); BOT_PY overrides the search.

# A pyenv shim answers `command -v` but may fail to run, so each candidate must really start as 3.10.
BOT_PY ?= $(shell for p in python3.10 $(HOME)/.pyenv/versions/3.10.*/bin/python3.10; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null \
	  && { command -v $$p; break; }; done)
BOT_VENV ?= .venv-bot
BOT_BIN := $(BOT_VENV)/bin
MODEL ?= models/ycc.tar.gz
BOT_RESULTS ?= results
CV_FOLDS ?= 5
# Custom components (bot/components) and actions load only with the project root on PYTHONPATH.
BOT_ENV := PYTHONPATH=$(CURDIR) SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
RASA := $(BOT_ENV) $(BOT_BIN)/rasa
RASA_FILES := --config config.yml --domain bot/domain
# bot/channels is the gateway's input channel (run time only): changing it must not retrain the model.
BOT_INPUTS := $(shell find bot -type f -not -path '*/__pycache__/*' -not -path 'bot/channels/*' -not -name 'tracker_store.py' -not -name '*.pyc' 2>/dev/null) config.yml

.PHONY: bot-install validate train test-bot test-actions test-stories crossval nlu-eval nlu-import run-rasa run-actions

$(BOT_VENV)/.installed: requirements/bot.lock
	@test -n "$(BOT_PY)" || { echo "Python 3.10 is needed for the bot (set BOT_PY=/path/to/python3.10)"; exit 1; }
	@test -x $(BOT_BIN)/python || $(BOT_PY) -m venv $(BOT_VENV)
	$(BOT_BIN)/pip install -q --upgrade "pip<25"
	$(BOT_BIN)/pip install -q -r requirements/bot.lock
	@touch $@

bot-install: $(BOT_VENV)/.installed ## create the bot venv (Python 3.10, rasa 3.6.21) from requirements/bot.lock

$(MODEL): $(BOT_VENV)/.installed $(BOT_INPUTS)
	$(RASA) train $(RASA_FILES) --data bot/data --out $(dir $(MODEL)) --fixed-model-name $(basename $(basename $(notdir $(MODEL))))
	@touch $@

validate: $(BOT_VENV)/.installed ## rasa data validate (domain, NLU, rules, stories)
	$(RASA) data validate $(RASA_FILES) --data bot/data

train: $(MODEL) ## train the model if anything under bot/ or config.yml changed (~1–2 min)

test-actions: $(BOT_VENV)/.installed ## unit tests of the custom actions (fake gateway)
	$(BOT_ENV) $(BOT_BIN)/python -m pytest -q -c tests/actions/pytest.ini --confcutdir tests/actions tests/actions

test-stories: $(MODEL) ## test stories in tests/bot, every prediction must be right
	$(RASA) test core --model $(MODEL) --stories tests/bot --fail-on-prediction-errors --out $(BOT_RESULTS)/core

# Twins (examples equal but for punctuation/endings) would sit in train and test folds and inflate the scores,
# so they are refused first. rasa has no seed for the folds: figures vary by about ±0.01 between runs.
# Gate = regression floor under what is measured today; the targets (macro-F1 ≥ 0.90 from issue 3, ≥ 0.92 from
# issue 14; crisis recall ≥ 0.98) are printed as met / NOT MET on every run. With the fixed folds of
# tests/bot/crossval.py: 0.9102 with issue 3's intents; 0.8623, then 0.8776 (crisis recall 0.9877) after issue 14
# added six intents (career, telling school, eligibility, records, what consent means, continuing the profile),
# whose answers people asked for and got the fallback. The floor moved to 0.87 so that this measured state can land;
# the remaining errors are mostly other intents read as crisis (whose intent alone now only gives `concern`, from
# confidence 0.8). Raise it as the data improves; never lower it below what a run measures. After the December
# data batch (hard negatives for care talk, typed profile answers, career/school/eligibility/records phrasings):
# 0.8865 (crisis recall 0.9915; 0.8877, 0.8860, 0.8820 on the rounds before it: adding examples reshuffles the
# folds, ±0.005), so the floor rose to 0.875. After the second round (typed button labels, withdrawal questions,
# hesitations as small talk, five personas' phrasings) and issue 16's intent ask_secure_chat (32 examples, F1 0.82,
# read against ask_privacy/ask_records): 0.8811, then 0.8761 (crisis recall 0.9864 both); a floor 0.001 under a run
# fails every other CI run, so it is 0.87 again, under both runs. The NLU dev set (`make nlu-eval`, macro-F1 0.948)
# measures unseen messages apart.
CV_MIN_F1 ?= 0.87
CV_MIN_CRISIS_RECALL ?= 0.975

crossval: $(BOT_VENV)/.installed ## twin check, then NLU 5-fold CV; gate: macro-F1 ≥ CV_MIN_F1, crisis recall ≥ CV_MIN_CRISIS_RECALL
	$(BOT_BIN)/python tests/bot/check_nlu_twins.py bot/data/nlu
	$(BOT_ENV) $(BOT_BIN)/python tests/bot/crossval.py $(RASA_FILES) --nlu bot/data/nlu --cross-validation \
	  --folds $(CV_FOLDS) --out $(BOT_RESULTS)
	$(BOT_BIN)/python tests/bot/check_nlu_report.py $(BOT_RESULTS)/intent_report.json \
	  --macro-f1 $(CV_MIN_F1) --crisis-recall $(CV_MIN_CRISIS_RECALL)

# The dev set (tests/bot/nlu_dev) is written apart from the training data and never trained on: it measures what
# new users meet, where crossval measures the trainers' own style. It refuses to run if a dev message leaked into
# bot/data/nlu or the personas (docs/trainers.md).
nlu-eval: $(MODEL) ## NLU dev set (never trained on): per-intent recall/precision, macro-F1, crisis recall and false alarms, fallback rate
	$(BOT_ENV) $(BOT_BIN)/python tests/bot/nlu_eval.py --model $(MODEL) --dev tests/bot/nlu_dev --out $(BOT_RESULTS)/nlu_dev.json

# The trainers' loop (docs/trainers.md): turns labelled on the review page, exported with `ycc training
# export-nlu` and rewritten by hand, join bot/data/nlu/reviewed.yml only if the twin check and the CV gate pass.
nlu-import: $(BOT_VENV)/.installed ## add REVIEWED=<file> (labelled turns) to the NLU data; kept only if the twin check and crossval gate pass
	@test -n "$(REVIEWED)" || { echo "usage: make nlu-import REVIEWED=var/nlu-reviewed.yml"; exit 2; }
	$(BOT_BIN)/python tests/bot/import_reviewed.py stage $(REVIEWED)
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) crossval || { $(BOT_BIN)/python tests/bot/import_reviewed.py undo; exit 1; }
	$(BOT_BIN)/python tests/bot/import_reviewed.py keep

test-bot: test-actions test-stories crossval ## all bot tests: actions, test stories, NLU cross-validation

# Both need the shared secrets in the environment (README, Security): Rasa YCC_RASA_TOKEN and YCC_ACTIONS_TOKEN,
# the action server YCC_ACTIONS_TOKEN and YCC_INTERNAL_TOKEN; `make run` makes them per start.
# Rasa keeps its trackers where the gateway's settings say (YCC_TRACKER_STORE_URL, default beside YCC_DATABASE_URL;
# endpoints.yml → bot/tracker_store.py) and refuses to start without them; run it with the gateway's environment.
run-rasa: $(MODEL) ## Rasa on 127.0.0.1:5005: only the gateway's REST channel (YCC_RASA_TOKEN), no HTTP API
	$(RASA) run -i 127.0.0.1 -p 5005 --model $(MODEL) --credentials credentials.yml --endpoints endpoints.yml

run-actions: $(BOT_VENV)/.installed ## action server on 127.0.0.1:5055, only for Rasa (YCC_ACTIONS_TOKEN)
	$(BOT_ENV) $(BOT_BIN)/python -m actions.server --port 5055 --actions actions
