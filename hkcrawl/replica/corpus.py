"""Word lists and templates that write the replica's Korean business news.

Every function takes the caller's ``random.Random``, so a text depends only on the
seed it was given (the model seeds one per article from its id). The templates are
many and the numbers random, so two articles practically never share a paragraph;
the tests check that no two bodies are equal.

The text avoids anything the cleaning rules treat as boilerplate (hankyung-site.md
§3.3): no line is ever only "AD", a copyright notice, a photo credit or a byline.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

#: Per section: who acts in its news, what the news is about, extra tag words.
ORGS: dict[str, tuple[str, ...]] = {
    "economy": (
        "기획재정부", "한국은행", "통계청", "한국개발연구원", "산업통상자원부", "국세청", "고용노동부", "관세청",
    ),
    "financial-market": (
        "금융위원회", "금융감독원", "KB국민은행", "신한은행", "하나은행", "우리은행", "삼성생명", "한화생명",
        "카카오뱅크", "토스뱅크", "업비트", "NH투자증권",
    ),
    "industry": (
        "삼성전자", "SK하이닉스", "현대자동차", "기아", "LG에너지솔루션", "삼성SDI", "HD현대중공업", "한화오션",
        "포스코홀딩스", "LG화학", "두산로보틱스", "SK이노베이션",
    ),
    "politics": ("대통령실", "국민의힘", "더불어민주당", "국회 기획재정위원회", "행정안전부", "국무조정실", "법제처"),
    "society": ("서울중앙지검", "교육부", "서울시", "경찰청", "고용노동부", "서울대", "대한상공회의소"),
    "international": (
        "미국 중앙은행(Fed)", "중국 상무부", "일본은행", "유럽중앙은행(ECB)", "백악관", "애플", "엔비디아", "테슬라",
        "TSMC", "국제통화기금(IMF)",
    ),
    "it": ("네이버", "카카오", "과학기술정보통신부", "SK텔레콤", "KT", "LG유플러스", "엔씨소프트", "크래프톤"),
    "realestate": ("국토교통부", "한국부동산원", "서울시", "LH", "현대건설", "GS건설", "대우건설", "삼성물산"),
    "life": ("식품의약품안전처", "질병관리청", "CJ제일제당", "롯데쇼핑", "이마트", "아모레퍼시픽", "한국관광공사"),
    "opinion": ("정부", "국회", "한국은행", "산업계", "금융당국", "여야", "노동계"),
    "sports": ("대한축구협회", "KBO", "대한체육회", "프로농구연맹", "LPGA 투어", "KPGA"),
    "entertainment": ("하이브", "SM엔터테인먼트", "JYP엔터테인먼트", "CJ ENM", "넷플릭스", "티빙"),
    "culture": ("문화체육관광부", "국립중앙박물관", "예술의전당", "국립현대미술관", "한국문학번역원"),
    "video": ("한경TV", "한경 글로벌마켓", "한경 코리아마켓", "한경 머니"),
}  # fmt: skip

TOPICS: dict[str, tuple[str, ...]] = {
    "economy": (
        "소비자물가",
        "기준금리",
        "경상수지",
        "수출",
        "세수",
        "가계부채",
        "고용률",
        "재정적자",
        "환율",
        "성장률",
    ),
    "financial-market": ("예대금리차", "주택담보대출", "가상자산", "보험료", "연금저축", "ISA", "대출 규제", "밸류업"),
    "industry": (
        "HBM",
        "파운드리",
        "전기차",
        "2차전지",
        "LNG선",
        "설비투자",
        "로봇",
        "수소",
        "철강 가격",
        "반도체 수출",
    ),
    "politics": ("예산안", "특별법", "국정감사", "개헌", "지방선거", "규제 개혁", "연금 개혁", "세법 개정"),
    "society": ("의대 정원", "최저임금", "저출생", "교권", "중대재해", "주 4일제", "청년 고용", "학교폭력"),
    "international": ("관세", "공급망", "금리 인하", "위안화", "엔저", "반도체 수출 통제", "무역협정", "유가"),
    "it": ("생성형 AI", "클라우드", "데이터센터", "망 사용료", "플랫폼 규제", "6G", "사이버 보안", "게임 신작"),
    "realestate": ("전셋값", "아파트 분양", "재건축", "공시가격", "주택 공급", "청약", "공사비", "미분양"),
    "life": ("여행 수요", "식품 가격", "건강기능식품", "면세점", "편의점", "K뷰티", "반려동물", "외식 물가"),
    "opinion": ("규제 개혁", "노동 개혁", "재정 건전성", "성장 전략", "연금 개혁", "산업 경쟁력", "저출생 대책"),
    "sports": ("월드컵 예선", "포스트시즌", "올림픽", "자유계약(FA)", "메이저 대회", "신인왕 경쟁"),
    "entertainment": ("K팝", "월드 투어", "드라마 시청률", "OTT", "음원 차트", "팬미팅"),
    "culture": ("전시회", "문학상", "공연 예매", "클래식 공연", "문화유산", "출판 시장"),
    "video": ("증시 전망", "부동산 시장", "글로벌 증시", "투자 전략", "환율 전망", "금리 전망"),
}

WHO = ("업계 관계자", "한 증권사 애널리스트", "시장 전문가", "정부 고위 관계자", "한 대기업 임원", "한 연구위원")
CREDITS = ("연합뉴스", "사진=한경DB", "사진=연합뉴스", "로이터", "AFP", "뉴스1", "사진=게티이미지뱅크")
UP = ("증가", "상승", "확대", "개선")
DOWN = ("감소", "하락", "축소", "둔화")

_SENTENCES = (
    "{org}(는) {day}일 {topic} 관련 대책을 발표하고 {amount}원 규모의 지원에 나서기로 했다.",
    "{org}에 따르면 지난달 {topic} 지표는 전년 동월 대비 {pct}% {move}한 것으로 집계됐다.",
    "{org}의 {quarter} 영업이익은 {amount}원으로 시장 예상치를 {pct}% {beat}.",
    "업계에서는 {topic} 시장이 {year}년까지 연평균 {pct}%씩 성장할 것으로 보고 있다.",
    "{who}(는) “{quote}”고 말했다.",
    "{who}(는) “{quote}”며 “{quote2}”고 설명했다.",
    "{org}(와) {org2}(는) {topic} 분야에서 협력하는 업무협약(MOU)을 맺었다.",
    "이에 따라 {topic} 관련 투자는 올해 {amount}원 안팎에 이를 전망이다.",
    "{topic}(을) 둘러싼 불확실성이 커지면서 {org}의 대응에도 관심이 쏠린다.",
    "{org}(는) {month}월까지 세부 방안을 마련해 {topic} 제도를 손질할 계획이다.",
    "지난해 같은 기간과 비교하면 {n}개 항목 가운데 {m}개가 {move}세를 보였다.",
    "시장에서는 {topic} 흐름이 {quarter} 이후 본격적으로 {move}할 것이란 관측이 나온다.",
    "{org} 측은 {topic} 문제를 해결하기 위해 전담 조직을 꾸리고 인력 {n}명을 배치했다.",
    "전문가들은 {topic} 변동성이 당분간 이어질 수 있다며 신중한 접근을 주문했다.",
    "{org}(는) 이번 조치로 연간 {amount}원의 비용을 아낄 수 있을 것으로 기대하고 있다.",
    "올해 들어 {topic} 관련 신청 건수는 {count}건으로 작년 전체 실적을 이미 넘어섰다.",
    "{org2}도 비슷한 계획을 검토하고 있어 {topic} 경쟁은 한층 치열해질 전망이다.",
    "{day}일 열린 간담회에서 {org} 관계자들은 {topic} 현안을 놓고 {n}시간 넘게 논의했다.",
    "{topic} 부문 매출 비중은 {pct}%까지 높아져 회사의 새로운 성장축으로 떠올랐다.",
    "다만 {topic} 수요가 예상보다 더디게 회복될 경우 실적 개선 폭은 제한될 수 있다.",
    "{org}(는) {year}년까지 {topic}에 총 {amount}원을 투입한다는 중장기 계획을 내놨다.",
    "{month}월 말 기준 {topic} 잔액은 {amount}원으로 한 달 새 {amount2}원 {move}했다.",
    "{org}(가) 내놓은 보고서에 따르면 응답자의 {pct}%가 {topic} 정책에 긍정적으로 답했다.",
    "{topic} 시장 점유율은 {org} {pct}%, {org2} {pct2}% 순으로 나타났다.",
    "{who}(는) “{topic}(은) 단기 처방보다 구조적 해법이 필요한 문제”라고 지적했다.",
    "정부와 {org}(는) {topic} 관련 규제를 {quarter} 중 정비하는 방안을 협의하고 있다.",
    "이번 결정은 {topic}(을) 둘러싼 논란이 불거진 지 {n}개월 만에 나온 것이다.",
    "{org}의 주가는 이날 {pct}% {rise} {price}원에 거래를 마쳤다.",
)

_QUOTES = (
    "하반기에는 {topic} 개선 흐름이 뚜렷해질 것으로 본다",
    "{topic} 문제를 더는 미룰 수 없는 상황이다",
    "당장 성과를 내기보다 체질을 바꾸는 데 집중하겠다",
    "시장 상황을 면밀히 지켜보며 대응 방안을 마련하겠다",
    "{topic} 경쟁력은 결국 기술과 인재에서 나온다",
    "현장의 목소리를 반영해 보완책을 내놓겠다",
    "투자 시점을 조율하고 있지만 방향은 변함없다",
    "{topic} 리스크는 충분히 관리 가능한 수준이다",
)

_HEADLINES = (
    "{org}, {topic} {action}",
    "{topic} {pct}% {jump}…{tail}",
    '"{short}"…{org}, {topic} {action}',
    "{org} {quarter} 영업익 {amount}원…{tail}",
    "{topic} 앞세운 {org}, {year}년 {action}",
    "[단독] {org}, {topic} 사업 {action}",
    "{org}·{org2} {topic} 동맹…{tail}",
    "{topic} {jump}에 {org} '비상'",
    "{month}월 {topic} {jump}…{tail}",
    '{org} "{topic} {short2}"',
)
_ACTIONS = ("본격화", "속도낸다", "승부수", "강화한다", "확대", "나선다", "재정비", "박차", "전면 재검토", "첫발")
_JUMPS = ("급등", "하락", "반등", "껑충", "뚝", "최고치", "급감", "주춤")
_TAILS = ("시장 '술렁'", "업계 긴장", "투자자 촉각", "전망 엇갈려", "기대감 커진다", "불확실성 여전", "반전 노린다")
_SHORTS = ("이대로면 밀린다", "지금이 골든타임", "판이 바뀐다", "버틸 여력 없다", "기회는 지금")
_SHORTS2 = ("속도 높일 것", "정면 돌파", "내년이 분수령", "투자 늘린다")
_OPINION_PREFIXES = ("[사설]", "[시론]", "[한경에세이]", "[천자칼럼]", "[다산칼럼]")

_SUMMARIES = (
    "{org}, {topic} {amount}원 투입",
    "{quarter} 실적 시장 기대 웃돌아",
    "{topic} 규제 완화 속도",
    "{org2}(와) 협력 확대 검토",
    "{year}년까지 점유율 {pct}% 목표",
    "{topic} 수요 회복 신호",
    '전문가 "{topic} 변동성 유의해야"',
)

_CAPTIONS = (
    "{org} 관계자가 {day}일 {topic} 관련 브리핑을 하고 있다.",
    "서울 시내 한 매장에서 시민들이 {topic} 관련 안내문을 살펴보고 있다.",
    "{org} 본사 전경.",
    "{day}일 열린 {topic} 설명회에서 참석자들이 발표를 듣고 있다.",
    "{org} 임직원들이 {topic} 현장을 점검하고 있다.",
)


@dataclass(frozen=True)
class When:
    """The dates a text may mention: the article's own publish date."""

    year: int
    month: int
    day: int


def _amount(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.randint(1, 40)}조{rng.choice(('', '1000억', '2500억', '3400억', '5000억', '8700억'))}"
    return f"{rng.randint(12, 9800):,}억".replace(",", "")


class _Slots(dict):
    """Template values, drawn only when a template asks for them (most use a few)."""

    def __init__(self, rng: random.Random, section: str, when: When) -> None:
        super().__init__()
        self.rng, self.section, self.when = rng, section, when

    def __missing__(self, key: str) -> object:
        rng = self.rng
        if key in ("org2", "topic2"):
            first = self[key[:-1]]
            pool = ORGS[self.section] if key == "org2" else TOPICS[self.section]
            value: object = rng.choice([item for item in pool if item != first])
        elif key in ("quote", "quote2"):
            used = self.get("quote")
            value = rng.choice([q for q in _QUOTES if q != used]).format_map(self)
        else:
            value = _SLOTS[key](rng, self)
        self[key] = value
        return value


_SLOTS = {
    "org": lambda rng, s: rng.choice(ORGS[s.section]),
    "topic": lambda rng, s: rng.choice(TOPICS[s.section]),
    "who": lambda rng, s: rng.choice(WHO),
    "day": lambda rng, s: s.when.day,
    "month": lambda rng, s: rng.randint(1, 12),
    "year": lambda rng, s: s.when.year + rng.randint(1, 6),
    "quarter": lambda rng, s: f"{rng.randint(1, 4)}분기",
    "pct": lambda rng, s: f"{rng.randint(1, 48)}.{rng.randint(0, 9)}",
    "pct2": lambda rng, s: f"{rng.randint(1, 30)}.{rng.randint(0, 9)}",
    "amount": lambda rng, s: _amount(rng),
    "amount2": lambda rng, s: _amount(rng),
    "n": lambda rng, s: rng.randint(2, 30),
    "m": lambda rng, s: rng.randint(1, 9),
    "count": lambda rng, s: f"{rng.randint(1200, 98000):,}",
    "price": lambda rng, s: f"{rng.randint(3, 980) * 100:,}",
    "move": lambda rng, s: rng.choice(UP + DOWN),
    "rise": lambda rng, s: rng.choice(("오른", "내린")),
    "beat": lambda rng, s: rng.choice(("웃돌았다", "밑돌았다")),
    "action": lambda rng, s: rng.choice(_ACTIONS),
    "jump": lambda rng, s: rng.choice(_JUMPS),
    "tail": lambda rng, s: rng.choice(_TAILS),
    "short": lambda rng, s: rng.choice(_SHORTS),
    "short2": lambda rng, s: rng.choice(_SHORTS2),
}


def _fill(template: str, rng: random.Random, section: str, when: When) -> str:
    return _attach_particles(template.format_map(_Slots(rng, section, when)))


_PARTICLE = re.compile(r"\((은|는|이|가|을|를|와|과)\)")
_PARTICLE_PAIRS = {"은": ("은", "는"), "는": ("은", "는"), "이": ("이", "가"), "가": ("이", "가"),
                   "을": ("을", "를"), "를": ("을", "를"), "와": ("과", "와"), "과": ("과", "와")}  # fmt: skip
_TRAILING_PARENS = re.compile(r"(?:\([^()]*\))+$")


def _ends_in_consonant(text: str) -> bool:
    """Whether the word before a particle ends in a final consonant, as read aloud.

    A parenthesis gloss does not count ("한국은행(BOK)는" reads after 행); Latin
    letters and digits are read by their Korean names (엠, 엘, 일, 삼 …).
    """
    last = _TRAILING_PARENS.sub("", text.rstrip())[-1:]
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28 != 0
    return last.upper() in "LMNR013678"


def _attach_particles(text: str) -> str:
    """``"{org}(는)"`` markers -> 은/는, 이/가, 을/를, 과/와 chosen by the word before."""

    def pick(match: re.Match[str]) -> str:
        with_final, without = _PARTICLE_PAIRS[match.group(1)]
        return with_final if _ends_in_consonant(text[: match.start()]) else without

    return _PARTICLE.sub(pick, text)


def headline(rng: random.Random, section: str, when: When) -> str:
    text = _fill(rng.choice(_HEADLINES), rng, section, when)
    if section == "opinion":
        text = f"{rng.choice(_OPINION_PREFIXES)} {text.removeprefix('[단독] ')}"
    return text


def paragraph(rng: random.Random, section: str, when: When) -> str:
    """2–4 sentences; quotes never open a paragraph (a lead states a fact)."""
    lead = rng.choice(_SENTENCES[:4])
    rest = rng.sample([t for t in _SENTENCES if t != lead], rng.randint(1, 3))
    return " ".join(_fill(template, rng, section, when) for template in (lead, *rest))


def summary_lines(rng: random.Random, section: str, when: When) -> list[str]:
    return [_fill(t, rng, section, when) for t in rng.sample(_SUMMARIES, rng.randint(1, 3))]


def caption(rng: random.Random, section: str, when: When) -> str:
    return f"{_fill(rng.choice(_CAPTIONS), rng, section, when)} {rng.choice(CREDITS)}"


def keywords(rng: random.Random, section: str) -> list[str]:
    pool = TOPICS[section] + tuple(o for o in ORGS[section] if "(" not in o)
    return rng.sample(pool, rng.randint(2, 5))


# Reporters -------------------------------------------------------------------------

_SURNAMES = (
    ("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang"), ("조", "cho"),
    ("윤", "yoon"), ("장", "jang"), ("임", "lim"), ("한", "han"), ("오", "oh"), ("서", "seo"), ("신", "shin"),
    ("권", "kwon"), ("황", "hwang"), ("안", "ahn"), ("송", "song"), ("류", "ryu"), ("홍", "hong"),
)  # fmt: skip
# Syllables that cannot, next to a role word, read as one (no 기, 위, 구, 자 …).
_GIVEN = (
    ("민", "min"), ("준", "jun"), ("서", "seo"), ("현", "hyun"), ("지", "ji"), ("우", "woo"), ("예", "ye"),
    ("은", "eun"), ("수", "soo"), ("영", "young"), ("진", "jin"), ("호", "ho"), ("석", "seok"), ("재", "jae"),
    ("연", "yeon"), ("혜", "hye"), ("동", "dong"), ("성", "sung"), ("태", "tae"), ("희", "hee"), ("훈", "hoon"),
    ("경", "kyung"), ("윤", "yoon"), ("하", "ha"), ("나", "na"), ("솔", "sol"), ("빈", "bin"), ("규", "kyu"),
    ("상", "sang"), ("유", "yu"), ("람", "ram"), ("도", "do"),
)  # fmt: skip
DATELINES = ("뉴욕", "워싱턴", "베이징", "도쿄", "실리콘밸리", "파리", "런던")


def reporter_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct (Korean name, email local part) pairs."""
    names: dict[str, str] = {}
    locals_seen: set[str] = set()
    while len(names) < count:
        (sur, sur_r), (g1, g1_r), (g2, g2_r) = rng.choice(_SURNAMES), rng.choice(_GIVEN), rng.choice(_GIVEN)
        name = sur + g1 + g2
        if name in names or g1 == g2:
            continue
        local = rng.choice((f"{g1_r}{g2_r}", f"{sur_r}{g1_r[0]}{g2_r[0]}", f"{g2_r}{rng.randint(1, 99)}"))
        while local in locals_seen:
            local += str(rng.randint(0, 9))
        locals_seen.add(local)
        names[name] = local
    return list(names.items())
