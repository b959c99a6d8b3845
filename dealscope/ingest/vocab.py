"""Words that carry meaning in exports in many languages: deal outcomes (won / lost / open) and the
keywords that make a header a role when no exact synonym matched (METHODS.md §3)."""

from __future__ import annotations

import re
import unicodedata

from dealscope.model import LOST, OPEN, WON

# Whole words (after NFKC + casefold) that say a deal was won / lost / is still open.
WON_WORDS = frozenset(
    [
        "won",
        "win",
        "wins",
        "winning",
        "closedwon",
        "success",
        "successful",
        "succeeded",
        "booked",
        "signed",
        "gewonnen",
        "gewonnenen",
        "gagné",
        "gagnée",
        "gagne",
        "gagnee",
        "gagnés",
        "ganado",
        "ganada",
        "ganados",
        "ganho",
        "ganha",
        "ganhos",
        "vinto",
        "vinta",
        "vinti",
        "ganado",
        "conquistado",
        "fechado_ganho",
    ]
)
LOST_WORDS = frozenset(
    [
        "lost",
        "loss",
        "lose",
        "losing",
        "closedlost",
        "failed",
        "failure",
        "fail",
        "dead",
        "disqualified",
        "unqualified",
        "cancelled",
        "canceled",
        "outsold",
        "out-sold",
        "rejected",
        "abandoned",
        "apology",
        "churned",
        "dropped",
        "verloren",
        "verlust",
        "perdu",
        "perdue",
        "perdus",
        "perdido",
        "perdida",
        "perdidos",
        "perda",
        "perso",
        "persa",
        "annulé",
        "annulée",
        "cancelado",
        "cancelada",
        "anulado",
        "storniert",
        "abgesagt",
        "geannuleerd",
        "afgewezen",
    ]
)
OPEN_WORDS = frozenset(
    [
        "open",
        "opened",
        "active",
        "pending",
        "inprogress",
        "ongoing",
        "offen",
        "laufend",
        "abierto",
        "abierta",
        "aberto",
        "aberta",
        "ouvert",
        "ouverte",
        "aperto",
        "aperta",
        "lopend",
        "actief",
        "process",
    ]
)
# Stems for languages whose words inflect (Russian): a word starting with one of these.
WON_STEMS = ("выигр", "успешн", "успех", "заключ")
LOST_STEMS = ("проигр", "провал", "потер", "отказ", "отмен", "неуспешн")
OPEN_STEMS = ("открыт", "в работе", "активн")
# Chinese: substrings (no word breaks). 签约中 / 预计成交 are open, so those are checked first.
CJK_OPEN = ("进行中", "跟进中", "签约中", "谈判中", "预计", "未关闭", "开放", "未成交")
CJK_WON = ("赢单", "成交", "签约", "签单", "中标", "赢得", "赢")
CJK_LOST = ("输单", "丢单", "流失", "失单", "战败", "失败", "输", "关闭无效", "作废")
# Phrases whose words are split ("in progress", "closed - won") are caught by the word sets.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def normal_text(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).casefold().strip()


def outcome_of(text: str) -> str | None:
    """won / lost / open when a stage or status text says so in any supported language, else
    None. Both a won and a lost word (e.g. "Won/Lost review") is None: never guessed."""
    value = normal_text(text)
    if not value:
        return None
    if _CJK.search(value):
        if any(p in value for p in CJK_OPEN):
            return OPEN
        won = any(p in value for p in CJK_WON)
        lost = any(p in value for p in CJK_LOST)
        return WON if won and not lost else LOST if lost and not won else None
    words = _WORD.findall(value)
    compact = "".join(words)
    if compact in WON_WORDS:
        return WON
    if compact in LOST_WORDS:
        return LOST
    if compact in OPEN_WORDS or value in ("in progress", "in bearbeitung", "en cours", "en curso",
                                          "em andamento", "in behandeling"):  # fmt: skip
        return OPEN
    won = any(w in WON_WORDS or w.startswith(WON_STEMS) for w in words)
    lost = any(w in LOST_WORDS or w.startswith(LOST_STEMS) for w in words)
    if won != lost:
        return WON if won else LOST
    if not won and any(w in OPEN_WORDS or w.startswith(OPEN_STEMS) for w in words):
        return OPEN
    return None


# Flags such as IsWon / IsClosed / Bitrix CLOSED: which texts are true and which false.
TRUE_WORDS = frozenset(
    [
        "true",
        "yes",
        "y",
        "1",
        "ja",
        "sí",
        "si",
        "sim",
        "oui",
        "да",
        "是",
        "t",
        "wahr",
        "vrai",
        "verdadeiro",
        "waar",
    ]
)
FALSE_WORDS = frozenset(
    [
        "false",
        "no",
        "n",
        "0",
        "nein",
        "não",
        "non",
        "нет",
        "否",
        "f",
        "falsch",
        "faux",
        "falso",
        "onwaar",
        "nee",
    ]
)


def truth_of(text: str) -> bool | None:
    value = normal_text(text)
    return True if value in TRUE_WORDS else False if value in FALSE_WORDS else None


# Keywords for a header's role when no exact synonym matched, as regexes over header_key().
# Checked in this order; a role already taken by an exact name is not given again.
ENTITY = (
    r"(?:deal|deals|opportunity|opportunities|opp|oppty|negócio|negocio|negócios|trato|"
    r"oportunidad|oportunidade|opportunité|affaire|geschäft|verkaufschance|chance|"
    r"opportuniteit|kans|сделка|сделки|возможность|商机|机会|项目)"
)
_BY = r"\b(?:by|von|por|par|door|кем|人)\s*$"
ROLE_KEYWORDS: tuple[tuple[str, str, str | None], ...] = (
    # (role, pattern, exclusion pattern)
    (
        "expected_close_at",
        r"(expected|estimated|forecast|target|projected|planned|prevista|previsto|esperad|prévue|"
        r"prevue|estimée|erwartet|voraussichtlich|geplant|verwacht|ожидаем|предполаг|планир|预计|预期)"
        r".*(clos|date|datum|fecha|data|дата|fech|abschluss|sluit|日期|时间)",
        r"(revenue|amount|value|betrag|wert|valor|montant|bedrag|сумма|金额|probab)",
    ),
    (
        "created_at",
        r"(creat|erstellt|angelegt|erzeugt|creado|creada|creación|criado|criada|criação|créé|creee|"
        r"création|aangemaakt|gemaakt|создан|дата создания|创建|新建|录入|立项)",
        _BY + r"|(\bid\b|user|benutzer|usuario|usuário|utilisateur|gebruiker|пользоват)",
    ),
    (
        "closed_at",
        r"(clos|abschluss|geschlossen|gewonnen am|cierre|cerrad|fechament|fechad|fermeture|clôtur|"
        r"clotur|gesloten|sluit|закрыт|заверш|结单|关闭|成交日期|成交时间|签约日期|赢单日期|won date|"
        r"lost date|data de ganho|data de perda)",
        _BY + r"|(reason|grund|motivo|raison|reden|причин|原因|probab|amount|value|revenue|status|"
        r"stage|\bid\b)",
    ),
    (
        "last_activity_at",
        r"(last activit|last contact|letzte aktivität|última actividad|última atividade|"
        r"dernière activité|laatste activiteit|последн.*актив|最后跟进|最近跟进|最后活动)",
        None,
    ),
    (
        "lost_reason",
        r"(lost|loss|verlust|perdid|pérdid|perda|perte|verlies|проигр|провал|输单|丢单|流失)"
        r".*(reason|grund|motivo|raison|reden|причин|原因)|(reason|motivo|raison|причин).*(lost|loss|perd|проигр)",
        None,
    ),
    (
        "probability",
        r"(probab|wahrscheinlich|waarschijnlijk|вероятн|概率|赢率|可能性|win chance|chance of win)",
        None,
    ),
    (
        "status",
        r"^(?:" + ENTITY + r"\s*)?(status|state|result|outcome|win loss|won lost|win/loss|won/lost|"
        r"estado|situação|situacao|statut|résultat|resultado|ergebnis|zustand|staat|resultaat|"
        r"статус|результат|состояние|状态|结果|输赢)$",
        None,
    ),
    (
        "stage",
        r"(stage|phase|fase|etapa|étape|etape|stufe|этап|стади|阶段|pipeline phase|sales stage)",
        r"(duration|time in|days in|dauer|duração|durée|duur|длитель|时长|停留|date|datum|fecha|"
        r"entered|from|previous|prior|vorher|anterior|history|probab|id$|\bid\b|count|number|"
        r"anzahl|número|numero|nombre de|количеств|次数|数量|changes?\b)",
    ),
    (
        "amount",
        r"(amount|value|revenue|betrag|wert|umsatz|importe|monto|valor|montant|bedrag|waarde|"
        r"omzet|сумма|стоимость|выручк|金额|价值|收入|营收|acv|tcv|\barr\b|price|preis|precio|preço|prix|"
        r"prijs|цена|总价)",
        r"(weight|gewicht|gewogen|ponder|pondér|взвеш|加权|probab|currency|währung|moneda|moeda|devise|"
        r"valuta|валюта|币种|\bid\b|type|typ|tipo|reason|motivo|date|datum|fecha|дата|日期|size|"
        r"category|past|previous|client|customer|account|company)",
    ),
    (
        "currency",
        r"(currency|währung|moneda|divisa|moeda|devise|valuta|валюта|币种|货币)",
        r"(amount|value|rate|kurs)",
    ),
    (
        "owner",
        r"(owner|rep\b|representative|seller|salesperson|sales person|account executive|^ae$|agent|"
        r"assigned|responsible|eigentümer|besitzer|verantwortlich|inhaber|zuständig|propietario|"
        r"responsable|vendedor|vendedora|proprietário|proprietario|responsável|responsavel|"
        r"propriétaire|proprietaire|commercial|vendeur|eigenaar|verkoper|accountmanager|"
        r"ответственн|владел|менеджер|продавец|负责人|销售|业务员|跟进人|归属|签单人)",
        r"(account owner|company owner|contact owner|team|manager$|email|e mail|phone|telefon)",
    ),
    (
        "account",
        r"(account|company|organi[sz]ation|customer|client|empresa|cliente|organização|organizacao|"
        r"entreprise|société|societe|firma|unternehmen|organisatie|bedrijf|klant|компания|клиент|"
        r"организац|客户|公司|企业)",
        r"(owner|type|typ|tipo|id$|email|phone|segment|industry|size|manager)",
    ),
    (
        "name",
        r"^(?:" + ENTITY + r"\s*)?(name|title|titel|título|titulo|nombre|nome|nom|naam|название|"
        r"наименование|名称|标题|主题)$"
        r"|^(name|title|titel|título|titulo|nombre|nome|nom|naam|название|наименование)\s+"
        r"(?:(?:del?|da|do|de la|de l'?|van|der|des|du|of)\s*)?" + ENTITY + r"$",
        None,
    ),
    (
        "source",
        r"(source|origin|quelle|herkunft|fuente|origen|fonte|origem|bron|herkomst|источник|来源|渠道)",
        r"(\bid\b|date|datum|fecha)",
    ),
    (
        "region",
        r"(region|territor|región|região|regiao|région|regio\b|gebiet|регион|территор|区域|大区|地区)",
        None,
    ),
    (
        "team",
        r"(team|equipo|equipe|équipe|vertriebsteam|команда|отдел|department|abteilung|departamento|"
        r"团队|部门)",
        None,
    ),
    (
        "industry",
        r"(industry|branche|industria|indústria|industrie|secteur|sector|отрасль|行业)",
        None,
    ),
    (
        "customer_type",
        r"(deal type|opportunity type|customer type|tipo de negócio|tipo de oportunidad|"
        r"type d'affaire|geschäftsart|тип сделки|客户类型|商机类型)",
        None,
    ),
    (
        "opportunity_id",
        r"^" + ENTITY + r"\s*(id|number|no|nr|nummer|número|numero|num|код|номер|编号|编码|号)$"
        r"|^(id|número|numero|nummer|номер|идентификатор)\s+(?:(?:del?|da|do|de la|de l'?|van|"
        r"der|des|du|записи|сделки)\s*)?(?:" + ENTITY + r"|registro|record|enregistrement|"
        r"datensatz)$",
        None,
    ),
)
COMPILED_KEYWORDS = tuple(
    (role, re.compile(pattern), re.compile(exclude) if exclude else None)
    for role, pattern, exclude in ROLE_KEYWORDS
)


def keyword_role(key: str) -> str | None:
    """The first role whose keywords a header_key() contains (and whose exclusions it does not)."""
    for role, pattern, exclude in COMPILED_KEYWORDS:
        if pattern.search(key) and not (exclude and exclude.search(key)):
            return role
    return None


# Currency marks that make a column an amount column by its values.
CURRENCY_MARK = r"[¥￥$€£₽₹]|\b(?:USD|EUR|GBP|CNY|RMB|BRL|R\$|RUB|JPY|CHF|CAD|AUD|HKD|MXN)\b|元"
